import {mkdir, mkdtemp, readFile, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {ROOT, TEST_IMAGE} from '../helpers/constants.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';

/**
 * Upgrade in place (docs/admin/upgrades-and-backups.md "Upgrading"): the release before this round (a fixed commit of main)
 * and this tree, each packed and installed into a prefix of its own; sessions made by the old
 * one are used, changed and removed by the new one, and no container is restarted by the switch.
 */
const PREVIOUS_RELEASE = 'cc197a0';
let sandbox: Sandbox;
let oldCli: string;
let newCli: string;
let env: Record<string, string>;

async function packAndInstall(work: string, name: string, tree: string): Promise<string> {
  const source = path.join(work, name);
  await mkdir(source);
  await execa('bash', ['-c', `${tree} | tar -xf - -C ${source}`], {cwd: ROOT});
  // npm pack builds it first (prepack: npm ci for the build's tools, then the build). Both
  // tarballs are named sandman-0.1.0.tgz: each goes to a directory of its own.
  const destination = path.join(work, `${name}-tarball`);
  await mkdir(destination);
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', destination], {cwd: source});
  const tarball = path.join(destination, JSON.parse(String(packed.stdout))[0].filename as string);
  const prefix = path.join(work, `${name}-prefix`);
  await execa('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], {cwd: work});
  return path.join(prefix, 'bin', 'sandman');
}

beforeAll(async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'sandman-upgrade-'));
  [oldCli, newCli] = await Promise.all([
    packAndInstall(work, 'previous', `git archive ${PREVIOUS_RELEASE}`),
    packAndInstall(work, 'current', 'git ls-files -z -co --exclude-standard | tar --null -T - -cf -'),
  ]);
  sandbox = createSandbox({portStart: 35_600, portCount: 10});
  env = {...sandbox.env, ...fakeGpuEnv(sandbox.dir, 'a100-mig-r580'), SANDMAN_IMAGE: TEST_IMAGE};
}, 600_000);
afterAll(async () => {
  await sandbox?.cleanup();
});

const run = (cli: string, args: string[]) => execa(cli, args, {env, reject: false, cwd: tmpdir()});
const json = async <T>(cli: string, args: string[]) => {
  const result = await run(cli, [...args, '--json']);
  return {
    exitCode: result.exitCode,
    body: JSON.parse(String(result.stdout)) as T,
    stderr: String(result.stderr),
  };
};

interface Created {
  session_id: string;
  container_id: string;
  ssh_port: number;
  ssh_user: string;
  ssh_private_key_path: string | null;
  gpu_uuid: string | null;
}

const started = async (container: string) => {
  const state = JSON.parse((await execa('docker', ['inspect', container])).stdout)[0];
  return {startedAt: state.State.StartedAt as string, restarts: state.RestartCount as number};
};

describe('an upgrade from the release before this round', () => {
  it('keeps every session: listed, logged into with the original keys, extended, stopped and started, reaped, removed', async () => {
    const units = path.join(sandbox.dir, 'units');
    const setup = await run(oldCli, ['setup', '--unit-dir', units, '--ssh-host', '127.0.0.1']);
    expect(setup.exitCode, String(setup.stdout) + String(setup.stderr)).toBe(0);
    const ownKey = path.join(sandbox.dir, 'own');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', ownKey]);
    const made = [
      await json<Created>(oldCli, ['session', 'create', 'plain', '--no-gpu']),
      await json<Created>(oldCli, ['session', 'create', 'slice', '--profile', '1c.2g.10gb']),
      await json<Created>(oldCli, ['session', 'create', 'owner', '--no-gpu', '--ssh-key', `${ownKey}.pub`]),
    ];
    for (const result of made) expect(result.exitCode, result.stderr).toBe(0);
    const [plain, slice, owner] = made.map((result) => result.body) as [Created, Created, Created];
    expect(JSON.parse(await readFile(sandbox.stateFile, 'utf8')).version).toBe(1);
    const before = await Promise.all([plain, owner].map((session) => started(session.container_id)));

    // The upgrade: from here on, the new CLI only. setup rewrites the units whose text changed
    // (they run the new install now) and says so.
    const resetup = await json<{steps: Array<{step: string; status: string; detail: string}>}>(newCli, [
      'setup',
    ]);
    expect(resetup.exitCode, resetup.stderr).toBe(0);
    expect(resetup.body.steps).toContainEqual({
      step: 'reaper',
      status: 'done',
      detail: `sandman-reap.service in ${units}`,
    });
    expect(await readFile(path.join(units, 'sandman-reap.service'), 'utf8')).toContain(
      newCli.replace(/bin\/sandman$/, ''),
    );
    const version = await run(newCli, ['--version']);
    expect(version.stdout).toContain(
      `state file ${sandbox.stateFile}: version 1; this sandman reads state file versions 1 to 2`,
    );
    const listed = await json<Array<Created & {status: string}>>(newCli, ['session', 'ls']);
    // ls orders by creation time, then ID: sessions made within one second come in ID order.
    expect(
      listed.body
        .map((session) => [session.ssh_user, session.status, session.ssh_port, session.gpu_uuid])
        .sort((a, b) => Number(a[2]) - Number(b[2])),
    ).toEqual([
      ['plain', 'running', plain.ssh_port, null],
      ['slice', 'running', slice.ssh_port, slice.gpu_uuid],
      ['owner', 'running', owner.ssh_port, null],
    ]);
    const knownHosts = path.join(sandbox.dir, 'known_hosts');
    await writeFile(knownHosts, String((await run(newCli, ['known-hosts'])).stdout) + '\n');
    const login = (session: Created, key: string) =>
      execa(
        'ssh',
        [
          ...strictHostKeyOptions(knownHosts),
          '-i',
          key,
          '-p',
          String(session.ssh_port),
          `${session.ssh_user}@127.0.0.1`,
          'id -un',
        ],
        {reject: false, stdin: 'ignore'},
      );
    for (const [session, key] of [
      [plain, plain.ssh_private_key_path!],
      [slice, slice.ssh_private_key_path!],
      [owner, ownKey],
    ] as const) {
      const result = await login(session, key);
      expect(result.stdout.trim(), result.stderr).toBe(session.ssh_user);
    }

    // Extend, then stop and start the GPU session (its device is still free: the same one).
    expect((await run(newCli, ['session', 'extend', 'slice', '--ttl', '30m'])).exitCode).toBe(0);
    // The extend gave it the SSH gateway's key (docs/admin/upgrades-and-backups.md "Upgrading"); the others have none yet.
    const records = JSON.parse(await readFile(sandbox.stateFile, 'utf8')).sessions as Array<{
      user: string;
      gateway_key?: string;
    }>;
    expect(records.map((record) => [record.user, record.gateway_key !== undefined])).toEqual([
      ['plain', false],
      ['slice', true],
      ['owner', false],
    ]);
    expect((await json<{status: string}>(newCli, ['session', 'stop', 'slice'])).body.status).toBe('stopped');
    const restarted = await json<Created & {device: string}>(newCli, ['session', 'start', 'slice']);
    expect(restarted.body).toMatchObject({device: 'same', gpu_uuid: slice.gpu_uuid});
    expect((await login(slice, slice.ssh_private_key_path!)).stdout.trim()).toBe('slice');

    // Reap: nothing to do; the untouched sessions' containers were never restarted.
    const reap = await json<{items: unknown[]}>(newCli, ['reap']);
    expect(reap.body.items).toEqual([]);
    expect(await Promise.all([plain, owner].map((session) => started(session.container_id)))).toEqual(before);

    // The state file: migrated at the first change, the old one kept beside it.
    expect(JSON.parse(await readFile(sandbox.stateFile, 'utf8')).version).toBe(2);
    expect(JSON.parse(await readFile(`${sandbox.stateFile}.v1.bak`, 'utf8')).version).toBe(1);
    const doctor = await json<{checks: Array<{name: string; detail: string}>}>(newCli, ['doctor']);
    expect(doctor.body.checks.find((check) => check.name === 'state file')?.detail).toContain('(version 2)');

    const removed = await run(newCli, ['session', 'rm', 'plain', 'slice', 'owner']);
    expect(removed.exitCode, String(removed.stderr)).toBe(0);
    expect(await sandbox.containers()).toEqual([]);
  });
});
