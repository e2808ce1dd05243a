#!/usr/bin/env node
// Entry point: the CLI is bundled into dist/ (npm run build). `reap` and `session ls`, which
// timers and scripts run all the time, are answered without loading oclif when their arguments are
// plain (dist/fast/fast.js, from cli/fast-path.ts); everything else goes through oclif, which
// reads oclif.manifest.json for help and routing, so only the command that runs does any work.
import module from 'node:module';

// Node 22.1 and later keep V8's compiled code between runs (in the OS temporary directory unless
// NODE_COMPILE_CACHE says otherwise); Node 20 has no such cache and skips this.
module.enableCompileCache?.();

const {runFast} = await import('../dist/fast/fast.js');
if (!(await runFast(process.argv.slice(2)))) {
  const {run} = await import('../dist/bundle/sandman.js');
  await run(import.meta.url);
}
