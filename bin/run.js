#!/usr/bin/env node
// Entry point: the CLI is bundled into dist/ (npm run build). Plain invocations of any command are
// answered by the fast door (dist/fast/fast.cjs, from cli/fast-door.ts; bin/load-fast-door.js
// loads it with a code cache) without loading oclif; --help, completion and anything the fast door
// does not parse go through oclif, which reads oclif.manifest.json for help and routing. Both run
// the same handlers from cli/registry.ts.
//
// CommonJS (bin/package.json), though the package is ES modules: Node starts an ES module entry
// point through its ES module loader, 10-15 ms before the first line runs; the fast door needs none
// (BENCHMARKS.md, issue 30's third part), and the oclif door loads it with import() when asked.
const nodeModule = require('node:module');
const path = require('node:path');
const {pathToFileURL} = require('node:url');

const {loadFastDoor} = require('./load-fast-door.js');

const root = path.dirname(__dirname);
// Node 22.1 and later keep V8's compiled code of modules between runs (here: the oclif door); Node
// 20 has no such cache and skips this. The cache lives in the package's own directory, as trusted
// as the code beside it: root runs sandman (the reaper, every minute), and Node's default,
// <tmpdir>/node-compile-cache, is a path any local user could make first and fill with code for
// root to load. NODE_COMPILE_CACHE, when set, still wins (Node enables it before this runs). Where
// the directory cannot be written (a user without root), Node goes on without a cache.
nodeModule.enableCompileCache?.(path.join(root, 'dist', '.compile-cache'));

async function main() {
  const argv = process.argv.slice(2);
  const door = loadFastDoor(root, argv);
  if (await door.runFast(argv, root)) {
    door.keepCache();
  } else {
    const {run} = await import('../dist/bundle/sandman.js');
    // oclif finds the package from here (bin/package.json, nameless, would stop its search).
    await run(pathToFileURL(path.join(root, 'package.json')).href);
  }
}
// As a top-level await would: a failure the runners did not turn into output is printed, exit 1.
main().catch((error) => {
  process.exitCode = 1;
  throw error;
});
