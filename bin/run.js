#!/usr/bin/env node
// Entry point: the CLI is bundled into dist/ (npm run build). Plain invocations of any command are
// answered by the fast door (dist/fast/fast.cjs, from cli/fast-door.ts; bin/load-fast-door.js
// loads it with a code cache) without loading oclif;
// --help, completion and anything the fast door does not parse go through oclif, which reads
// oclif.manifest.json for help and routing. Both run the same handlers from cli/registry.ts.
import module from 'node:module';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {loadFastDoor} from './load-fast-door.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// Node 22.1 and later keep V8's compiled code of modules between runs (here: the oclif door); Node
// 20 has no such cache and skips this. The cache lives in the package's own directory, as trusted as the code beside it: root runs
// sandman (the reaper, every minute), and Node's default, <tmpdir>/node-compile-cache, is a path
// any local user could make first and fill with code for root to load. NODE_COMPILE_CACHE, when
// set, still wins (Node enables it before this runs). Where the directory cannot be written (a user
// without root), Node goes on without a cache.
module.enableCompileCache?.(path.join(root, 'dist', '.compile-cache'));

const argv = process.argv.slice(2);
const door = loadFastDoor(root, argv);
if (await door.runFast(argv, root)) {
  door.keepCache();
} else {
  const {run} = await import('../dist/bundle/sandman.js');
  await run(import.meta.url);
}
