import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// README "How the CLI is built": use cases take interfaces and never import an implementation;
// the command table and the fast door never load oclif.
const ADAPTER_IMPORTS = {
  group: [
    '**/adapters/*',
    'dockerode',
    'execa',
    'lowdb',
    'lowdb/*',
    'proper-lockfile',
    'node:fs',
    'node:fs/promises',
    'node:child_process',
  ],
  message: 'use cases take interfaces: the implementation is built in cli/services.ts',
};
// node:net's sockets are an adapter's; its address checks (isIP) are pure functions.
const NET_SOCKETS = {
  name: 'node:net',
  allowImportNames: ['isIP', 'isIPv4', 'isIPv6'],
  message: 'use cases take interfaces: sockets belong in an adapter, built in cli/services.ts',
};
const OCLIF_IMPORTS = {
  group: ['@oclif/*'],
  message: 'the command table and the fast door must not load oclif (only cli/oclif-door.ts does)',
};
const UI_IMPORTS = {
  group: ['chalk', 'ora', '@oclif/*', 'cli-table3', '@inquirer/*', '**/cli/*', '**/commands/*'],
  message: 'src/ is the domain: no CLI',
};

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {globals: {process: 'readonly', console: 'readonly'}},
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_'}],
    },
  },
  {
    // All of src/ but the adapters: the domain and its use cases (no CLI, no implementation).
    files: ['src/**/*.ts'],
    ignores: ['**/adapters/**'],
    rules: {
      'no-restricted-imports': ['error', {paths: [NET_SOCKETS], patterns: [UI_IMPORTS, ADAPTER_IMPORTS]}],
    },
  },
  {
    files: ['src/**/adapters/**/*.ts'],
    rules: {'no-restricted-imports': ['error', {patterns: [UI_IMPORTS]}]},
  },
  {
    // The entry point is CommonJS (bin/package.json; see bin/run.js for why), and so are the bench's
    // bare Node client (bench/node-client.cjs) and the cycle check's config (.dependency-cruiser.cjs).
    files: ['bin/**/*.js', 'bench/**/*.cjs', '.dependency-cruiser.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {require: 'readonly', module: 'writable', __dirname: 'readonly', __filename: 'readonly'},
    },
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    // The web console's pages (README "In the browser"): plain scripts in the browser, with xterm.js.
    files: ['web/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'location',
          'fetch',
          'URLSearchParams',
          'FormData',
          'Blob',
          'URL',
          'WebSocket',
          'confirm',
          'Terminal',
          'FitAddon',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    files: [
      'cli/registry.ts',
      'cli/command-spec.ts',
      'cli/spec-parts.ts',
      'cli/fast-door.ts',
      'cli/run-command.ts',
      'commands/**/*.ts',
    ],
    rules: {'no-restricted-imports': ['error', {patterns: [OCLIF_IMPORTS]}]},
  },
);
