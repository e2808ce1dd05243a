// Bundles the CLI (cli/oclif-door.ts with @oclif/core, and cli/fast-door.ts) into dist/bundle/ with esbuild.
// Heavy modules that commands import on demand (dockerode, prom-client, inquirer, ...) become
// separate chunks, loaded only by the commands that use them.
import {readFile} from 'node:fs/promises';

import {build} from 'esbuild';

const MINIFY = process.env.SANDMAN_BUNDLE_DEBUG !== '1';

// dockerode and docker-modem require, when they load, what only two rare paths use: gRPC and
// protobufjs for BuildKit sessions (dockerode's session.js) and ssh2 for ssh:// engine addresses
// (docker-modem's ssh.js). Loading them cost about 130 ms of every command that talks to Docker.
// These rewrites move each require into the function that uses it; esbuild's CommonJS wrappers
// then evaluate those modules on first call. A rewrite that no longer matches fails the build.
const LAZY_REQUIRES = [
  {
    file: /[\\/]dockerode[\\/]lib[\\/]docker\.js$/,
    from: "withSession = require('./session'),",
    to: "withSession = function () { return require('./session').apply(this, arguments); },",
  },
  {
    file: /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    from: "ssh = require('./ssh'),",
    to: "ssh = function (options) { return require('./ssh')(options); },",
  },
];

const RARE_MODULES = ['ssh2', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];

const lazyRequires = {
  name: 'lazy-requires',
  setup(build) {
    for (const rewrite of LAZY_REQUIRES) {
      build.onLoad({filter: rewrite.file}, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes(rewrite.from)) {
          throw new Error(
            `lazy-requires: "${rewrite.from}" not found in ${args.path}; update scripts/bundle.mjs`,
          );
        }
        return {contents: source.replace(rewrite.from, rewrite.to), loader: 'js'};
      });
    }
  },
};

const common = {
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
  // The rarely used modules behind LAZY_REQUIRES stay in node_modules (required on first use), so
  // the Docker chunk need not even be compiled with them.
  external: ['cpu-features', '*.node', 'typescript', 'ts-node', 'tsx', ...RARE_MODULES],
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
  plugins: [lazyRequires],
  logLevel: 'warning',
};

// Two builds: the oclif door (help, completion, usage errors) and the fast door that answers plain
// invocations of every command (cli/fast-door.ts). Built apart so that the fast door's modules are
// a handful of files rather than a share of the many small chunks the oclif build is split into:
// every module file costs about a millisecond to resolve, load and link.
await build({...common, entryPoints: {sandman: 'cli/oclif-door.ts'}, outdir: 'dist/bundle'});
await build({...common, entryPoints: {fast: 'cli/fast-door.ts'}, outdir: 'dist/fast'});
