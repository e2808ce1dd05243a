#!/usr/bin/env node
// Entry point: the whole CLI is one bundled module (npm run build); oclif reads
// oclif.manifest.json for help and routing, so only the command that runs does any work.
import {run} from '../dist/bundle/sandman.js';

await run(import.meta.url);
