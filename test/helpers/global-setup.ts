import {mkdtempSync, writeFileSync} from 'node:fs';
import {rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';

import {BIN, ROOT, TEST_BASE_IMAGE, TEST_IMAGE} from './constants.js';

/**
 * End-to-end tests need the built CLI and the workspace image. The image is built with the CLI
 * itself (`sandman image build --base ...`), so that command is exercised on every run. The unit
 * project (npm run test:unit) has no such setup: it touches no engine.
 */
export default async function setup(): Promise<void> {
  // The GPU hosts the nvidia-smi stand-in replayed in earlier runs (the hook stand-in's registry).
  await rm('/var/tmp/sandman-test-gpu-hosts', {recursive: true, force: true});
  const docker = await execa('docker', ['image', 'inspect', TEST_BASE_IMAGE], {reject: false});
  if (docker.exitCode !== 0) {
    throw new Error(
      `base image ${TEST_BASE_IMAGE} is missing or Docker is not running: run .ci/run (or see docs/development/contributing.md)\n${docker.stderr}`,
    );
  }
  const config = path.join(mkdtempSync(path.join(tmpdir(), 'sandman-setup-')), 'config.json');
  writeFileSync(config, '{}');
  const build = await execa(
    'node',
    [BIN, 'image', 'build', '--base', TEST_BASE_IMAGE, '--tag', TEST_IMAGE, '--json'],
    {cwd: ROOT, reject: false, env: {SANDMAN_CONFIG: config}},
  );
  if (build.exitCode !== 0)
    throw new Error(`building ${TEST_IMAGE} failed:\n${build.stdout}\n${build.stderr}`);
}
