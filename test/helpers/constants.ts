import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin', 'run.js');
/** The locally made base (debootstrap + docker import, see .ci/run) and the workspace image built on it. */
export const TEST_BASE_IMAGE = process.env.SANDMAN_TEST_BASE_IMAGE ?? 'sandman-test/base:bookworm';
export const TEST_IMAGE = process.env.SANDMAN_TEST_IMAGE ?? 'sandman-test/workspace:latest';
