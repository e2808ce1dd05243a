import {mkdir, readdir, readFile, stat} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {TEST_BASE_IMAGE} from '../helpers/constants.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

/**
 * `setup` as the record of a host's set-up (docs/admin/install.md): every setting it is given kept with
 * its type, where the reaper went remembered (units or cron) and found again by setup and doctor,
 * and `setup --remove` taking away exactly what setup made.
 */
const IMAGE = 'sandman-test/setup-record:latest';
let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 34_700, portCount: 10});
});
afterAll(async () => {
  await sandbox.cleanup();
  await execa('docker', ['rmi', '-f', IMAGE], {reject: false});
});

interface SetupBody {
  ok: boolean;
  changed: boolean;
  steps: Array<{step: string; status: string; detail: string}>;
  checks: Array<{name: string; status: string}>;
}

/** What this sandbox owns on the host's shared systems, as the tools list it. */
async function hostTraces(
  units: string,
): Promise<{rules: string[]; networks: string[]; images: string[]; unitFiles: string[]}> {
  const suffix = sandbox.instance.slice(0, 8);
  const rules = [
    ...String((await execa('iptables', ['-w', '5', '-S'])).stdout).split('\n'),
    ...String((await execa('ip6tables', ['-w', '5', '-S'])).stdout).split('\n'),
  ].filter((line) => line.includes(suffix));
  const networks = String((await execa('docker', ['network', 'ls', '--format', '{{.Name}}'])).stdout)
    .split('\n')
    .filter((name) => name === sandbox.network);
  const images = String((await execa('docker', ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout)
    .split('\n')
    .filter((name) => name === IMAGE);
  const unitFiles = await readdir(units).catch(() => ['(no directory)']);
  return {rules, networks, images, unitFiles};
}

const settings = [
  '--base',
  TEST_BASE_IMAGE,
  '--image',
  IMAGE,
  '--ssh-host',
  '127.0.0.1',
  '--ssh-port-start',
  '34700',
  '--max-sessions',
  '20',
  '--host-allow',
  '53,3128',
  '--audit-log',
  'AUDIT',
  '--default-ttl',
  '90',
];

describe('setup', () => {
  it('keeps every setting with its type, remembers the unit directory, and doctor passes after it', async () => {
    const units = path.join(sandbox.dir, 'units');
    const audit = path.join(sandbox.dir, 'setup-audit.jsonl');
    const before = await hostTraces(units);

    const args = settings.map((arg) => (arg === 'AUDIT' ? audit : arg));
    const first = await sandbox.json<SetupBody>(['setup', ...args, '--unit-dir', units], {
      env: {SANDMAN_IMAGE: undefined},
    });
    expect(first.exitCode, JSON.stringify(first.body)).toBe(0);
    expect(first.body.ok).toBe(true);
    expect(JSON.parse(await readFile(sandbox.env.SANDMAN_CONFIG!, 'utf8'))).toEqual({
      image: IMAGE,
      sshHost: '127.0.0.1',
      sshPortStart: 34_700,
      maxSessions: 20,
      hostAllow: [53, 3128],
      auditLog: audit,
      // A bare number is minutes, kept as the number given.
      defaultTtl: 90,
    });
    const during = await hostTraces(units);
    expect(during.rules.length).toBeGreaterThanOrEqual(8);
    expect([during.networks, during.images, during.unitFiles]).toEqual([
      [sandbox.network],
      [IMAGE],
      ['sandman-reap.service', 'sandman-reap.timer'],
    ]);
    const doctor = await sandbox.json<{ok: boolean}>(['doctor'], {env: {SANDMAN_IMAGE: undefined}});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.body.ok).toBe(true);

    // Again with the flags, then without: nothing changes, the units stay where they were.
    const again = await sandbox.json<SetupBody>(['setup', ...args, '--unit-dir', units], {
      env: {SANDMAN_IMAGE: undefined},
    });
    expect(again.body.changed).toBe(false);
    const bare = await sandbox.json<SetupBody>(['setup'], {env: {SANDMAN_IMAGE: undefined}});
    expect(bare.body.changed, JSON.stringify(bare.body.steps)).toBe(false);
    expect(bare.body.steps).toContainEqual(
      expect.objectContaining({step: 'reaper', status: 'ok', detail: `sandman-reap.timer in ${units}`}),
    );
    expect(await stat('/etc/cron.d/sandman').catch(() => undefined)).toBeUndefined();

    // A session, so there is something to refuse for and something to keep.
    const created = await sandbox.json<{session_id: string}>(['session', 'create', 'keeper', '--no-gpu'], {
      env: {SANDMAN_IMAGE: undefined},
    });
    expect(created.exitCode).toBe(0);
    await execa('bash', ['-c', `echo kept > ${sandbox.workspaceRoot}/keeper/notes.txt`]);

    // A container of this setup with no record (a lost state file): as much a session here.
    await execa('docker', [
      'create',
      '--name',
      'sandman-orphan-setup',
      '--label',
      `io.sandman.instance=${sandbox.instance}`,
      IMAGE,
    ]);
    const refused = await sandbox.json<{error: {code: string; message: string}}>(['setup', '--remove'], {
      env: {SANDMAN_IMAGE: undefined},
    });
    expect(refused.exitCode).toBe(4);
    expect(refused.body.error.code).toBe('CONFLICT');
    expect(refused.body.error.message).toContain('container sandman-orphan-setup (no record)');
    expect(await sandbox.containers()).toHaveLength(2);

    const dry = await sandbox.json<SetupBody>(['setup', '--remove', '--force', '--dry-run'], {
      env: {SANDMAN_IMAGE: undefined},
    });
    expect(dry.body.steps.filter((step) => step.status === 'would').map((step) => step.step)).toEqual([
      'sessions',
      'reaper',
      'firewall',
      'network',
      'image',
    ]);
    expect(await sandbox.containers()).toHaveLength(2);

    const removed = await sandbox.json<SetupBody>(['setup', '--remove', '--force'], {
      env: {SANDMAN_IMAGE: undefined},
    });
    expect(removed.exitCode, JSON.stringify(removed.body)).toBe(0);
    expect(await hostTraces(units)).toEqual(before);
    expect(await sandbox.containers()).toEqual([]);
    // Homes, the state file (with the user's uid) and the CA stay.
    expect(await readFile(path.join(sandbox.workspaceRoot, 'keeper', 'notes.txt'), 'utf8')).toBe('kept\n');
    expect(Object.keys((await readState(sandbox.stateFile)).users)).toEqual(['keeper']);
    expect((await stat(path.join(sandbox.dir, 'state', 'ca'))).isDirectory()).toBe(true);
    // sandman's relay key (the gateway's and `sandman ssh`'s login to every session) stays with them.
    expect((await stat(path.join(sandbox.dir, 'state', 'gateway', 'relay_ed25519'))).mode & 0o777).toBe(
      0o600,
    );

    // --purge asks, and without a terminal needs --yes; then the homes, state and CA go too.
    const unconfirmed = await sandbox.run(['setup', '--remove', '--purge']);
    expect(unconfirmed.exitCode).toBe(2);
    expect(unconfirmed.stderr).toContain('add --yes');
    const purged = await sandbox.json<SetupBody>(['setup', '--remove', '--purge', '--yes']);
    expect(purged.exitCode).toBe(0);
    expect(await stat(sandbox.workspaceRoot).catch(() => undefined)).toBeUndefined();
    expect(await stat(sandbox.stateFile).catch(() => undefined)).toBeUndefined();
    expect(await stat(path.join(sandbox.dir, 'state', 'ca')).catch(() => undefined)).toBeUndefined();
    expect(await stat(path.join(sandbox.dir, 'state', 'gateway')).catch(() => undefined)).toBeUndefined();
  });

  it('on a host without systemd writes a cron job carrying the units’ environment, and doctor finds it', async () => {
    const other = createSandbox({portStart: 34_710, portCount: 5});
    try {
      const cron = path.join(other.dir, 'cron.d', 'sandman');
      // A state directory that was there before setup (a package made it): setup did not make it.
      await mkdir(path.dirname(other.stateFile), {recursive: true});
      const result = await other.json<SetupBody>(['setup', '--ssh-host', '127.0.0.1', '--cron-file', cron]);
      expect(result.exitCode, JSON.stringify(result.body)).toBe(0);
      const line = (await readFile(cron, 'utf8')).split('\n')[1]!;
      expect(line).toMatch(/^\* \* \* \* \* root env /);
      expect(line).toContain(`SANDMAN_CONFIG=${other.env.SANDMAN_CONFIG}`);
      expect(line).toContain(`SANDMAN_STATE_FILE=${other.stateFile}`);
      expect(line).toMatch(/ reap >\/dev\/null 2>&1$/);
      // The line runs: the reaper it names reaps this setup (nothing to do, exit 0).
      const command = line.replace(/^\* \* \* \* \* root /, '').replace(/ >\/dev\/null 2>&1$/, ' --json');
      const reaped = await execa('bash', ['-c', command], {reject: false});
      expect(reaped.exitCode, String(reaped.stderr)).toBe(0);
      expect(JSON.parse(String(reaped.stdout))).toMatchObject({items: []});
      expect((await other.json<{ok: boolean}>(['doctor'])).body.ok).toBe(true);
      // Without the flag, setup finds the cron job where it put it.
      const again = await other.json<SetupBody>(['setup']);
      expect(again.body.changed).toBe(false);
      // A session makes sandman's relay key (`sandman ssh`, the gateway), which outlives it.
      expect((await other.run(['session', 'create', 'relay', '--no-gpu', '--no-wait'])).exitCode).toBe(0);
      expect((await other.run(['session', 'rm', 'relay'])).exitCode).toBe(0);
      const gateway = path.join(other.dir, 'state', 'gateway');
      expect((await stat(path.join(gateway, 'relay_ed25519'))).isFile()).toBe(true);
      const removed = await other.json<SetupBody>(['setup', '--remove']);
      expect(removed.exitCode).toBe(0);
      expect(await stat(path.dirname(cron)).catch(() => undefined)).toBeUndefined();
      // --purge takes the relay key with the other keys, the state directory staying.
      expect((await other.run(['setup', '--remove', '--purge', '--yes'])).exitCode).toBe(0);
      expect(await stat(gateway).catch(() => undefined)).toBeUndefined();
      expect((await stat(path.dirname(other.stateFile))).isDirectory()).toBe(true);
    } finally {
      await other.cleanup();
    }
  });
});
