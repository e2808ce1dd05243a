// Bundles the CLI (cli/main.ts with @oclif/core and the commands) into dist/bundle/ with esbuild.
// Heavy modules that commands import on demand (dockerode, prom-client, inquirer, ...) become
// separate chunks, loaded only by the commands that use them.
import {build} from 'esbuild';

const MINIFY = process.env.SANDMAN_BUNDLE_DEBUG !== '1';

await build({
  entryPoints: {sandman: 'cli/main.ts'},
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  minify: MINIFY,
  keepNames: true,
  // ssh2 (under dockerode) has optional native add-ons it loads in try/catch, and @oclif/core reaches
  // for TypeScript only to run uncompiled commands in development: leave them out.
  external: ['cpu-features', '*.node', 'typescript', 'ts-node', 'tsx'],
  // CommonJS code inside an ES module bundle still calls require() and reads __dirname.
  banner: {
    js: [
      "import {createRequire as __sandmanCreateRequire} from 'node:module';",
      "import {fileURLToPath as __sandmanFileURLToPath} from 'node:url';",
      "import {dirname as __sandmanDirname} from 'node:path';",
      'const require = __sandmanCreateRequire(import.meta.url);',
      'const __filename = __sandmanFileURLToPath(import.meta.url);',
      'const __dirname = __sandmanDirname(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
});
