// Bundles the CLI with esbuild: the oclif door (cli/oclif-door.ts with @oclif/core) into dist/bundle/,
// where heavy modules that commands import on demand (dockerode, prom-client, inquirer, ...) become
// separate chunks, loaded only by the commands that use them; and the fast door (cli/fast-door.ts)
// into one file, dist/fast/fast.cjs (see below).
import {createHash} from 'node:crypto';
import {copyFile, mkdir, readdir, readFile, writeFile} from 'node:fs/promises';

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

const RARE_MODULES = ['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'];

// docker-modem formats every request with util.inspect (all properties, any depth) for a debug
// line that is off unless DEBUG=modem: a few milliseconds of each command that talks to Docker.
// Formatted only when that line is wanted. Checked as the rewrites above are.
const QUIET_DEBUG = [
  {
    file: /[\\/]docker-modem[\\/]lib[\\/]modem\.js$/,
    from: "debug('Sending: %s', util.inspect(options, {",
    to: "debug.enabled && debug('Sending: %s', util.inspect(options, {",
  },
];

// ssh2 serves the gateway (src/gateway/adapters/ssh2-gateway.ts), which is bundled with it, in its own
// chunk. What the gateway needs and ssh2 1.17 lacks is patches/ssh2+1.17.0.patch, applied to
// node_modules at install (package.json "prepare", run by `npm ci`; README "Development"). A bundle
// of an unpatched ssh2 would ship a gateway whose host certificate OpenSSH refuses, so the build
// checks that every line each patch in patches/ adds is in its file.
async function assertPatched() {
  for (const name of (await readdir('patches')).filter((file) => file.endsWith('.patch'))) {
    const patch = await readFile(`patches/${name}`, 'utf8');
    for (const section of patch.split(/^diff --git a\//m).slice(1)) {
      const file = section.slice(0, section.indexOf(' '));
      const source = await readFile(file, 'utf8');
      const added = section.split('\n').filter((line) => /^\+(?!\+\+ )/.test(line));
      if (!added.every((line) => source.includes(line.slice(1))))
        throw new Error(`${file} lacks patches/${name}: run npm ci (or npm run prepare)`);
    }
  }
}
await assertPatched();

/** Applies each rewrite to its file as esbuild loads it; all rewrites of one file apply in turn. */
const sourceRewrites = {
  name: 'source-rewrites',
  setup(build) {
    const rewrites = [...LAZY_REQUIRES, ...QUIET_DEBUG];
    const files = [...new Set(rewrites.map((rewrite) => rewrite.file.source))];
    for (const file of files) {
      build.onLoad({filter: new RegExp(file)}, async (args) => {
        let source = await readFile(args.path, 'utf8');
        for (const rewrite of rewrites.filter((each) => each.file.source === file)) {
          if (!source.includes(rewrite.from)) {
            throw new Error(
              `source-rewrites: "${rewrite.from}" not found in ${args.path}; update scripts/bundle.mjs`,
            );
          }
          source = source.replace(rewrite.from, rewrite.to);
        }
        return {contents: source, loader: 'js'};
      });
    }
    // docker-modem's ssh:// engine support stays outside the bundle (see RARE_MODULES); only the
    // gateway's import of ssh2 is bundled.
    build.onResolve({filter: /^ssh2$/}, (args) =>
      /[\\/]docker-modem[\\/]/.test(args.importer) ? {path: 'ssh2', external: true} : undefined,
    );
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
  // the Docker chunk need not even be compiled with them; so does docker-modem's ssh2 (below).
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
  plugins: [sourceRewrites],
  logLevel: 'warning',
};

// Two builds: the oclif door (help, completion, usage errors) and the fast door that answers plain
// invocations of every command (cli/fast-door.ts).
await build({...common, entryPoints: {sandman: 'cli/oclif-door.ts'}, outdir: 'dist/bundle'});

// The fast door is one CommonJS file that bin/load-fast-door.js compiles with a V8 code cache per
// command (Node 20 has no compile cache for modules; README "How the CLI is built"). One file, not
// ES module chunks: a code cache belongs to one script, and with it V8 neither parses the parts a
// command does not run nor resolves and links dozens of chunks (docs/development/BENCHMARKS.md, issue 30's third
// part). Dynamic imports become requires inside the file (their modules still evaluate only when
// first used), so the vm.Script needs no module loader.
await build({
  ...common,
  splitting: false,
  format: 'cjs',
  outExtension: {'.js': '.cjs'},
  supported: {'dynamic-import': false},
  // Every character beyond ASCII escaped (esbuild's default, stated): the loader reads the file as
  // latin1, faster than UTF-8, and the check below makes sure that reads the same text.
  charset: 'ascii',
  define: {'import.meta.url': '__sandmanImportMetaUrl'},
  banner: {js: "const __sandmanImportMetaUrl = require('node:url').pathToFileURL(__filename).href;"},
  entryPoints: {fast: 'cli/fast-door.ts'},
  outdir: 'dist/fast',
});
const fastSource = await readFile('dist/fast/fast.cjs');
if (fastSource.some((byte) => byte > 0x7f))
  throw new Error('dist/fast/fast.cjs is not ASCII; see charset above');
// What the loader needs before it compiles the door: which build this is (a code cache is checked
// by V8 against the source's length only, so the cache's name carries the build) and the command
// words (the cache is chosen per command, never per argument).
const {COMMAND_TABLE} = await import('../dist/cli/registry.js');
await writeFile(
  'dist/fast/door.json',
  JSON.stringify({
    build: createHash('sha256').update(fastSource).digest('hex').slice(0, 16),
    commands: COMMAND_TABLE.flatMap((spec) => [spec.id, ...(spec.hiddenAliases ?? [])]).map((id) =>
      id.split(':'),
    ),
  }) + '\n',
);

// The web console (README "In the browser"): its pages and xterm.js, served by `sandman api` from
// dist/web (cli/http/console-files.ts); shipped in the package, never fetched from a CDN.
const WEB_VENDOR = {
  'xterm.js': 'node_modules/@xterm/xterm/lib/xterm.js',
  'xterm.css': 'node_modules/@xterm/xterm/css/xterm.css',
  'addon-fit.js': 'node_modules/@xterm/addon-fit/lib/addon-fit.js',
};
await mkdir('dist/web', {recursive: true});
for (const file of await readdir('web')) await copyFile(`web/${file}`, `dist/web/${file}`);
for (const [name, from] of Object.entries(WEB_VENDOR)) await copyFile(from, `dist/web/${name}`);
