import {mkdir, mkdtemp, readFile, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {ROOT, TEST_BASE_IMAGE} from '../helpers/constants.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';

/**
 * Install in one command, set up in one more (docs/admin/install.md): the packed CLI installed into a
 * fresh prefix, away from the repository's node_modules, runs setup, creates a session and lets
 * its user in.
 */
const IMAGE = 'sandman-test/setup:latest';
let sandbox: Sandbox;
let sandman: string;
let tarball: string;
let prefix: string;

let clone: string;
/** What npm said: the tarball's size, and how many packages the install added. */
let packedBytes: number;
let installOutput: string;
let before: {dist: boolean; nodeModules: boolean};

beforeAll(async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'sandman-pack-'));
  // A fresh clone of this tree: what git tracks (and new files it does not ignore), so no dist/
  // and no node_modules. npm pack must build it first (the prepack script).
  clone = path.join(work, 'clone');
  await mkdir(clone);
  await execa(
    'bash',
    ['-c', `git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C ${clone}`],
    {
      cwd: ROOT,
    },
  );
  before = {
    dist: (await stat(path.join(clone, 'dist')).catch(() => undefined)) !== undefined,
    nodeModules: (await stat(path.join(clone, 'node_modules')).catch(() => undefined)) !== undefined,
  };
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', work], {cwd: clone});
  const [pack] = JSON.parse(String(packed.stdout)) as Array<{filename: string; size: number}>;
  tarball = path.join(work, pack!.filename);
  packedBytes = pack!.size;
  prefix = path.join(work, 'prefix');
  // From a directory of its own, so nothing of the repository's node_modules is in reach.
  const installed = await execa(
    'npm',
    ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball],
    {cwd: work},
  );
  installOutput = String(installed.stdout);
  sandman = path.join(prefix, 'bin', 'sandman');
  sandbox = createSandbox({portStart: 33_800, portCount: 5});
});
afterAll(async () => {
  await sandbox.cleanup();
  await execa('docker', ['rmi', '-f', IMAGE], {reject: false});
});

const run = (args: string[]) =>
  execa(sandman, args, {env: {...sandbox.env, SANDMAN_IMAGE: IMAGE}, reject: false, cwd: tmpdir()});

describe('the packed CLI', () => {
  it('is built from a fresh clone by npm pack itself', async () => {
    // The clone had neither (as git gives it); prepack installed the build's tools and built.
    expect(before).toEqual({dist: false, nodeModules: false});
    expect((await stat(path.join(clone, 'dist', 'fast', 'fast.cjs'))).isFile()).toBe(true);
    expect((await stat(path.join(clone, 'oclif.manifest.json'))).isFile()).toBe(true);
  });

  it('holds the bundle and the image files, and installs only its runtime dependencies', async () => {
    const listing = String((await execa('tar', ['-tzf', tarball])).stdout).split('\n');
    expect(listing).toContain('package/dist/fast/fast.cjs');
    expect(listing).toContain('package/dist/fast/door.json');
    expect(listing).toContain('package/bin/load-fast-door.js');
    expect(listing).toContain('package/bin/package.json');
    // Code caches are made where the package is installed, for its Node; none ships.
    expect(listing.some((file) => file.includes('.compile-cache'))).toBe(false);
    expect(listing).toContain('package/dist/bundle/sandman.js');
    expect(listing).toContain('package/images/workspace/entrypoint.sh');
    expect(listing.some((file) => /^package\/(src|cli|commands|test)\//.test(file))).toBe(false);
    const installed = JSON.parse(
      await readFile(path.join(prefix, 'lib', 'node_modules', 'sandman', 'package.json'), 'utf8'),
    ) as {dependencies: Record<string, string>};
    expect(Object.keys(installed.dependencies).sort()).toEqual([
      '@oclif/core',
      '@oclif/plugin-autocomplete',
      '@oclif/plugin-help',
    ]);
    const modules = path.join(prefix, 'lib', 'node_modules', 'sandman', 'node_modules');
    for (const tool of ['typescript', 'esbuild', 'vitest', 'oclif'])
      expect(await stat(path.join(modules, tool)).catch(() => undefined), tool).toBeUndefined();
    const version = await run(['--version']);
    expect(version.stdout).toMatch(/^sandman\/0\.1\.0 linux-x64 node-v\d+/);
  });

  it("is as big as README's install lines say, give or take a quarter", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const said = /npm pack .*, about ([\d.]+) MB\n.*# about (\d+) packages, about ([\d.]+) MB installed/.exec(
      readme,
    );
    expect(said, "README's npm pack and npm install lines").not.toBeNull();
    const [packMb, packages, installedMb] = said!.slice(1).map(Number) as [number, number, number];
    const near = (actual: number, stated: number) => Math.abs(actual - stated) <= stated / 4;
    const installedBytes = Number(
      String((await execa('du', ['-sb', path.join(prefix, 'lib', 'node_modules', 'sandman')])).stdout).split(
        '\t',
      )[0],
    );
    const added = Number(/added (\d+) packages?/.exec(installOutput)?.[1]);
    const actual = {pack: packedBytes / 1e6, packages: added, installed: installedBytes / 1e6};
    expect(
      near(actual.pack, packMb) && near(actual.packages, packages) && near(actual.installed, installedMb),
      `README: ${packMb} MB, ${packages} packages, ${installedMb} MB; actual: ${JSON.stringify(actual)}`,
    ).toBe(true);
  });

  it('sets the host up, then a second run has nothing to do; a dry run only says', async () => {
    const units = path.join(sandbox.dir, 'units');
    const dry = await run(['setup', '--dry-run', '--base', TEST_BASE_IMAGE, '--unit-dir', units, '--json']);
    expect(dry.exitCode, String(dry.stderr)).toBe(0);
    expect(
      JSON.parse(String(dry.stdout)).steps.filter((step: {status: string}) => step.status === 'would').length,
    ).toBeGreaterThan(3);
    expect(await stat(units).catch(() => undefined)).toBeUndefined();

    const first = await run([
      'setup',
      '--base',
      TEST_BASE_IMAGE,
      '--unit-dir',
      units,
      '--ssh-host',
      '127.0.0.1',
    ]);
    expect(first.exitCode, String(first.stdout) + String(first.stderr)).toBe(0);
    expect(String(first.stdout)).toMatch(/^image\s+done\s+build sandman-test\/setup:latest/m);
    expect(String(first.stdout)).toMatch(/^reaper\s+done\s+sandman-reap\.service, sandman-reap\.timer in /m);
    const config = JSON.parse(await readFile(sandbox.env.SANDMAN_CONFIG!, 'utf8'));
    expect(config).toMatchObject({sshHost: '127.0.0.1'});
    expect(((await stat(path.join(sandbox.dir, 'state', 'keys'))).mode & 0o777).toString(8)).toBe('700');

    const second = await run(['setup', '--unit-dir', units, '--json']);
    expect(second.exitCode).toBe(0);
    const body = JSON.parse(String(second.stdout)) as {changed: boolean; steps: Array<{status: string}>};
    expect(body.changed).toBe(false);
    expect(body.steps.every((step) => step.status === 'ok')).toBe(true);
    expect(String((await run(['setup', '--unit-dir', units])).stdout)).toContain(
      'Nothing to do: this host is set up.',
    );

    // A value already in the config file stays unless --force.
    const kept = await run(['setup', '--unit-dir', units, '--ssh-host', 'example.org', '--json']);
    expect(JSON.parse(String(kept.stdout)).steps).toContainEqual(
      expect.objectContaining({step: 'config file', status: 'kept'}),
    );
    expect(JSON.parse(await readFile(sandbox.env.SANDMAN_CONFIG!, 'utf8')).sshHost).toBe('127.0.0.1');
  });

  it('creates a session a real ssh login gets into', async () => {
    const created = await run(['session', 'create', 'installer', '--no-gpu', '--json']);
    expect(created.exitCode, String(created.stdout)).toBe(0);
    const body = JSON.parse(String(created.stdout)) as {ssh_private_key_path: string; ssh_port: number};
    const login = await sshRun(body.ssh_private_key_path, body.ssh_port, 'installer', 'id -un');
    expect(login.stdout).toBe('installer');
    expect((await run(['session', 'rm', 'installer'])).exitCode).toBe(0);
  });
});
