import {
  chmod,
  chown,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {ROOT} from '../helpers/constants.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

/**
 * The fast door is compiled with a V8 code cache per command (bin/load-fast-door.js, docs/development/contributing.md "How the CLI is built"). Checked on a copy of the built package, so that other test files' runs do
 * not write into the caches these tests look at.
 */
let sandbox: Sandbox;
let pkg: string;
let cacheDir: string;
const NOBODY = 65534;

beforeAll(async () => {
  sandbox = createSandbox({portStart: 32_690, portCount: 2});
  pkg = await mkdtemp(path.join(tmpdir(), 'sandman-code-cache-'));
  await chmod(pkg, 0o755);
  for (const part of ['bin', 'dist', 'package.json', 'oclif.manifest.json']) {
    await cp(path.join(ROOT, part), path.join(pkg, part), {
      recursive: true,
      filter: (source) => path.basename(source) !== '.compile-cache',
    });
  }
  await symlink(path.join(ROOT, 'node_modules'), path.join(pkg, 'node_modules'));
  cacheDir = path.join(pkg, 'dist', '.compile-cache');
});
afterAll(async () => {
  await sandbox.cleanup();
  await rm(pkg, {recursive: true, force: true});
});

const run = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [path.join(pkg, 'bin', 'run.js'), ...args], {
    env: {...sandbox.env, ...env},
    reject: false,
  });
const cached = async (dir = cacheDir) => (await readdir(dir).catch(() => [])).sort();
const build = async () =>
  (JSON.parse(await readFile(path.join(pkg, 'dist', 'fast', 'door.json'), 'utf8')) as {build: string}).build;
const cacheName = (command: string, buildId: string) =>
  `fast-${command}.${buildId}.node${process.versions.node}-${process.arch}.bin`;

describe('the fast door’s code cache', () => {
  it('is made by a command that succeeded, then used as it is by the next runs', async () => {
    const first = await run(['session', 'ls', '--json']);
    expect(first.exitCode).toBe(0);
    const name = cacheName('session-ls', await build());
    expect(await cached()).toEqual([name]);
    const made = await stat(path.join(cacheDir, name));
    expect(made.size).toBeGreaterThan(10_000);
    const second = await run(['session', 'ls', '--json']);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    // Used, not made again: the file is the one the first run wrote.
    expect((await stat(path.join(cacheDir, name))).mtimeMs).toBe(made.mtimeMs);
  });

  it('is named per command, never per argument', async () => {
    expect((await run(['session', 'show', 'ls', '--json'])).exitCode).toBe(3);
    expect((await run(['session', 'ls', '--user', 'alice', '--json'])).exitCode).toBe(0);
    const id = await build();
    expect(await cached()).toEqual([
      cacheName('session-ls', id),
      cacheName('session-show', id).replace(/\.bin$/, '.partial.bin'),
    ]);
  });

  it('is not made by help (oclif answers it)', async () => {
    const help = await run(['session', 'extend', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('USAGE');
    expect((await cached()).filter((file) => file.includes('session-extend'))).toEqual([]);
  });

  it('a failed run makes a partial one, which the next run that succeeds replaces', async () => {
    const corrupt = path.join(pkg, 'corrupt-state.json');
    await writeFile(corrupt, '{not json');
    const failed = await run(['user', 'ls', '--json'], {SANDMAN_STATE_FILE: corrupt});
    expect(failed.exitCode).toBe(7);
    const stem = cacheName('user-ls', await build()).replace(/\.bin$/, '');
    expect((await cached()).filter((file) => file.startsWith('fast-user-ls.'))).toEqual([
      `${stem}.partial.bin`,
    ]);
    // Used by the next failed run as it is.
    const partial = await stat(path.join(cacheDir, `${stem}.partial.bin`));
    expect((await run(['user', 'ls', '--json'], {SANDMAN_STATE_FILE: corrupt})).exitCode).toBe(7);
    expect((await stat(path.join(cacheDir, `${stem}.partial.bin`))).mtimeMs).toBe(partial.mtimeMs);
    const succeeded = await run(['user', 'ls', '--json']);
    expect(succeeded.exitCode).toBe(0);
    expect(JSON.parse(succeeded.stdout)).toEqual([]);
    expect((await cached()).filter((file) => file.startsWith('fast-user-ls.'))).toEqual([`${stem}.bin`]);
  });

  it('Node started with other flags keeps a cache of its own beside the plain one', async () => {
    expect(
      (await run(['session', 'ls', '--json'], {NODE_OPTIONS: '--max-old-space-size=512'})).exitCode,
    ).toBe(0);
    const plain = cacheName('session-ls', await build());
    const mine = (await cached()).filter((file) => file.startsWith('fast-session-ls.'));
    expect(mine).toHaveLength(2);
    expect(mine).toContain(plain);
    expect(mine.find((file) => file !== plain)).toMatch(
      new RegExp(`^${plain.replace(/\.bin$/, '').replaceAll('.', '\\.')}\\.[0-9a-f]{8}\\.bin$`),
    );
  });

  it('one V8 refuses (a damaged file, another Node) is made again, and the command still answers', async () => {
    const name = cacheName('session-ls', await build());
    await writeFile(path.join(cacheDir, name), 'not a code cache');
    const result = await run(['session', 'ls', '--json']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('[]');
    const remade = await readFile(path.join(cacheDir, name));
    expect(remade.length).toBeGreaterThan(10_000);
  });

  it('a new build makes its own and removes that command’s cache of the old one', async () => {
    const door = path.join(pkg, 'dist', 'fast', 'door.json');
    const old = await build();
    await writeFile(
      door,
      JSON.stringify({...JSON.parse(await readFile(door, 'utf8')), build: 'feedfacefeedface'}),
    );
    try {
      expect((await run(['session', 'ls', '--json'])).exitCode).toBe(0);
      // The other build's caches of this command are gone (the one with flags too); other
      // commands' stay until they run.
      expect((await cached()).filter((file) => file.startsWith('fast-session-ls.'))).toEqual([
        cacheName('session-ls', 'feedfacefeedface'),
      ]);
    } finally {
      await writeFile(door, JSON.stringify({...JSON.parse(await readFile(door, 'utf8')), build: old}));
    }
  });

  it('root keeps none outside the package, even when it cannot write there', async () => {
    const elsewhere = path.join(pkg, 'root-cache');
    await mkdir(elsewhere);
    const blocked = path.join(pkg, 'blocked');
    await mkdir(path.join(blocked, 'dist'), {recursive: true});
    // bin/ copied: Node runs a linked entry point from where the link leads.
    await cp(path.join(pkg, 'bin'), path.join(blocked, 'bin'), {recursive: true});
    for (const part of ['package.json', 'oclif.manifest.json', 'node_modules']) {
      await symlink(path.join(pkg, part), path.join(blocked, part));
    }
    for (const part of ['fast', 'bundle', 'web']) {
      await symlink(path.join(pkg, 'dist', part), path.join(blocked, 'dist', part));
    }
    // A file where the cache directory would be: not even root can make it.
    await writeFile(path.join(blocked, 'dist', '.compile-cache'), '');
    const result = await execa('node', [path.join(blocked, 'bin', 'run.js'), 'session', 'ls', '--json'], {
      env: {...sandbox.env, XDG_CACHE_HOME: elsewhere},
      reject: false,
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('[]');
    expect(await readdir(elsewhere)).toEqual([]);
  });

  it('a user who cannot write the package keeps it in their own cache directory', async () => {
    const home = path.join(pkg, 'nobody-cache');
    await mkdir(home);
    await chown(home, NOBODY, NOBODY);
    const before = await cached();
    const result = await execa(
      'setpriv',
      [
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        'node',
        path.join(pkg, 'bin', 'run.js'),
        '--version',
      ],
      {env: {PATH: process.env.PATH, HOME: '/nonexistent', XDG_CACHE_HOME: home}, reject: false},
    );
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^sandman\/\d/);
    expect(await cached()).toEqual(before);
    expect(await cached(path.join(home, 'sandman'))).toEqual([cacheName('other', await build())]);
  });
});
