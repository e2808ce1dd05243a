// `npm pack` and `npm publish` run this first, so the tarball always carries a fresh build
// (dist/ is not in git: a fresh clone has none). A clone where `npm ci` was never run gets the
// build's dependencies first: the lock file's exact versions, no lifecycle scripts of their own.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(args) {
  console.error(`prepack: npm ${args.join(' ')}`);
  // Onto stderr: `npm pack --json` keeps stdout for its one JSON document.
  const result = spawnSync(npm, args, {cwd: root, stdio: ['ignore', 2, 2]});
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// What the build runs: tsc, esbuild, oclif (the manifest).
const tools = ['typescript', 'esbuild', 'oclif'];
if (!tools.every((tool) => existsSync(path.join(root, 'node_modules', tool, 'package.json')))) {
  run(['ci', '--no-audit', '--no-fund', '--ignore-scripts']);
  // Without scripts, npm ci applied none of patches/ either (the prepare script; the bundle
  // carries the patched ssh2, and scripts/bundle.mjs refuses an unpatched one).
  run(['run', 'prepare']);
}
run(['run', 'build']);
