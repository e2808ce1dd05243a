import {mkdtemp, readFile, stat, writeFile} from 'node:fs/promises';
import {connect} from 'node:net';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {NVIDIA_SMI_STAND_IN, devicesSeenByHook, fakeGpuEnv} from '../helpers/fake-gpu.js';
import {TEST_IMAGE} from '../helpers/constants.js';
import {createSandbox, sshRun, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';
import {readState, sessionOf} from '../helpers/state-file.js';

/**
 * Sessions through the host's life (docs/admin/reaper.md "Host restarts and reboots" and "Connecting from a
 * laptop and VS Code"): restarts, one SSH identity per host, keys that expire on their own,
 * editors' connections, reboots that change MIG devices.
 */
interface Created {
  session_id: string;
  container_id: string;
  ssh_port: number;
  ssh_private_key_path: string;
  gpu_uuid: string | null;
  expires_at: string;
}

let sandbox: Sandbox;
let knownHosts: string;
beforeAll(async () => {
  sandbox = createSandbox({portStart: 33_400, portCount: 20});
  knownHosts = path.join(sandbox.dir, 'known_hosts');
  const printed = await sandbox.run(['known-hosts']);
  expect(printed.exitCode).toBe(0);
  await writeFile(knownHosts, printed.stdout);
});
afterAll(async () => {
  await sandbox.cleanup();
});

/** Logs in checking the host key strictly against nothing but `sandman known-hosts`. */
const strictSsh = (session: Created, user: string, command: string, extra: string[] = []) =>
  execa(
    'ssh',
    [
      ...strictHostKeyOptions(knownHosts),
      ...extra,
      '-i',
      session.ssh_private_key_path,
      '-p',
      String(session.ssh_port),
      `${user}@127.0.0.1`,
      command,
    ],
    {reject: false, stdin: 'ignore', timeout: 30_000},
  );

/** The CA that signed the host certificate the server presented, and until when it is valid. */
async function presentedCertificate(session: Created, user: string): Promise<{ca: string; until: string}> {
  const result = await strictSsh(session, user, 'true', ['-v']);
  const line = String(result.stderr)
    .split('\n')
    .find((entry) => entry.includes('Server host certificate:'));
  const match = / CA ssh-ed25519 (\S+) valid from \S+ to (\S+)/.exec(line ?? '');
  if (!match) throw new Error(`no host certificate presented:\n${result.stderr}`);
  return {ca: match[1]!, until: match[2]!};
}

async function create(user: string, args: string[] = [], env: Record<string, string> = {}): Promise<Created> {
  const created = await sandbox.json<Created>(['session', 'create', user, ...args], {env});
  expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
  return created.body;
}

describe('one SSH identity per host', () => {
  it('prints one @cert-authority line for the host name, any port, made from a CA kept 0600', async () => {
    const line = (await readFile(knownHosts, 'utf8')).trim();
    expect(line).toMatch(
      /^@cert-authority 127\.0\.0\.1,\[127\.0\.0\.1\]:\* ssh-ed25519 AAAA\S+ sandman-host-ca$/,
    );
    const {mode} = await stat(path.join(sandbox.dir, 'state', 'ca', 'ssh_host_ca'));
    expect(mode & 0o777).toBe(0o600);
  });

  it('alice, bob, then alice again on the same port: every login checks strictly with no prompt', async () => {
    const alice = await create('alice', ['--no-gpu']);
    const bob = await create('bob', ['--no-gpu']);
    for (const [session, user] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const) {
      const login = await strictSsh(session, user, 'id -un');
      expect(login.exitCode, String(login.stderr)).toBe(0);
      expect(String(login.stdout)).toBe(user);
      expect(String(login.stderr)).toBe('');
    }
    expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
    const again = await create('alice', ['--no-gpu']);
    expect(again.ssh_port).toBe(alice.ssh_port);
    const login = await strictSsh(again, 'alice', 'id -un');
    expect(login.exitCode, String(login.stderr)).toBe(0);
    expect(String(login.stderr)).toBe('');
    // Every session's host key is certified by the same CA, for as long as the session lasts.
    const first = await presentedCertificate(bob, 'bob');
    const second = await presentedCertificate(again, 'alice');
    expect(second.ca).toBe(first.ca);
    expect(new Date(second.until + 'Z').toISOString().replace('.000', '')).toBe(again.expires_at);
    for (const user of ['alice', 'bob'])
      expect((await sandbox.run(['session', 'rm', user])).exitCode).toBe(0);
  });
});

describe('restarts', () => {
  it('docker restart: the same key logs in again within 15 s, under a host key of the same CA', async () => {
    const carol = await create('carol', ['--no-gpu', '--password']);
    const before = await presentedCertificate(carol, 'carol');
    await execa('docker', ['restart', carol.container_id]);
    const started = Date.now();
    let login = await strictSsh(carol, 'carol', 'true');
    while (login.exitCode !== 0 && Date.now() - started < 15_000) {
      await sleep(200);
      login = await strictSsh(carol, 'carol', 'true');
    }
    expect(login.exitCode, String(login.stderr)).toBe(0);
    expect((await presentedCertificate(carol, 'carol')).ca).toBe(before.ca);
    const inspect = await execa('docker', [
      'inspect',
      '-f',
      '{{.State.Status}} {{.RestartCount}}',
      carol.container_id,
    ]);
    expect(inspect.stdout).toBe('running 0');
    // The second run of the entrypoint kept the user (and the password chpasswd set).
    const shadow = await execa('docker', ['exec', carol.container_id, 'getent', 'shadow', 'carol']);
    expect(shadow.stdout).toMatch(/^carol:\$/);
    expect((await sandbox.run(['session', 'rm', 'carol'])).exitCode).toBe(0);
  });

  it('extend renews the host certificate, the key’s expiry and the banner inside the container', async () => {
    const dave = await create('dave', ['--no-gpu', '--ttl', '30m']);
    const extended = await sandbox.json<{expires_at: string}>(['session', 'extend', 'dave', '--ttl', '1h']);
    expect(extended.exitCode).toBe(0);
    // What sshd reads (sshd -T prints its AuthorizedKeysFile), as the container sees it.
    const keys = await execa('docker', [
      'exec',
      dave.container_id,
      'sh',
      '-c',
      'cat "$(/usr/sbin/sshd -T | awk \'$1 == "authorizedkeysfile" { print $2 }\')"; cat /etc/motd',
    ]);
    expect(keys.stdout).toMatch(
      new RegExp(`^expiry-time="${extended.body.expires_at.replace(/[-:TZ]/g, '')}Z" ssh-ed25519 `),
    );
    expect(keys.stdout).toContain(`Expires  ${extended.body.expires_at.replace('T', ' ').slice(0, 16)} UTC`);
    const {until} = await presentedCertificate(dave, 'dave');
    expect(new Date(until + 'Z').toISOString().replace('.000', '')).toBe(extended.body.expires_at);
    expect((await sandbox.run(['session', 'rm', 'dave'])).exitCode).toBe(0);
  });

  it('a key stops working at the session’s expiry with no reaper running', async () => {
    const erin = await create('erin', ['--no-gpu', '--ttl', '20s']);
    expect((await sshRun(erin.ssh_private_key_path, erin.ssh_port, 'erin', 'true')).exitCode).toBe(0);
    await sleep(Math.max(0, Date.parse(erin.expires_at) - Date.now()) + 2_000);
    const refused = await sshRun(erin.ssh_private_key_path, erin.ssh_port, 'erin', 'true');
    expect(refused.exitCode).toBe(255);
    expect(refused.stderr).toContain('Permission denied (publickey)');
    // The container is still there: nothing removed it, the key alone was refused.
    expect((await execa('docker', ['inspect', '-f', '{{.State.Running}}', erin.container_id])).stdout).toBe(
      'true',
    );
    expect((await sandbox.run(['session', 'rm', 'erin'])).exitCode).toBe(0);
  });
});

describe('connecting as editors do', () => {
  it('ssh -F with the printed Host block, a local port forward, scp and sftp', async () => {
    const fay = await create('fay', ['--no-gpu']);
    const printed = await sandbox.json<{alias: string; config: string; port: number}>([
      'ssh-config',
      'fay',
      '--known-hosts-file',
      knownHosts,
    ]);
    expect(printed.exitCode).toBe(0);
    expect(printed.body).toMatchObject({alias: 'sandman-fay', port: fay.ssh_port});
    const config = path.join(sandbox.dir, 'ssh_config');
    await writeFile(config, printed.body.config);
    const human = await sandbox.run(['ssh-config', 'fay', '--known-hosts-file', knownHosts]);
    expect(human.stdout + '\n').toBe(printed.body.config);
    expect(human.stdout).toContain(`IdentityFile ${fay.ssh_private_key_path}`);

    const plain = await execa('ssh', ['-F', config, 'sandman-fay', 'echo $HOME'], {
      reject: false,
      stdin: 'ignore',
    });
    expect(plain.exitCode, String(plain.stderr)).toBe(0);
    expect(plain.stdout).toBe('/home/fay');

    // -L: a port on this side reaches a port inside the session (its own sshd on 22).
    const forward = execa(
      'ssh',
      ['-F', config, '-N', '-o', 'ExitOnForwardFailure=yes', '-L', '33499:127.0.0.1:22', 'sandman-fay'],
      {
        reject: false,
      },
    );
    let banner = '';
    for (let attempt = 0; attempt < 50 && !banner.startsWith('SSH-2.0-'); attempt++) {
      await sleep(100);
      banner = await readBanner(33499);
    }
    forward.kill();
    expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);

    const local = await mkdtemp(path.join(tmpdir(), 'sandman-scp-'));
    await writeFile(path.join(local, 'up.txt'), 'to the session\n');
    const scp = await execa('scp', ['-F', config, path.join(local, 'up.txt'), 'sandman-fay:up.txt'], {
      reject: false,
    });
    expect(scp.exitCode, String(scp.stderr)).toBe(0);
    const sftp = await execa('sftp', ['-F', config, '-b', '-', 'sandman-fay'], {
      input: `get up.txt ${path.join(local, 'down.txt')}\n`,
      reject: false,
    });
    expect(sftp.exitCode, String(sftp.stderr)).toBe(0);
    expect(await readFile(path.join(local, 'down.txt'), 'utf8')).toBe('to the session\n');
    expect((await sandbox.run(['session', 'rm', 'fay'])).exitCode).toBe(0);
  });
});

/** A session the reaper just started answers within seconds. */
async function sshEventually(session: Created, user: string, command: string) {
  const started = Date.now();
  let result = await sshRun(session.ssh_private_key_path, session.ssh_port, user, command);
  while (result.exitCode !== 0 && Date.now() - started < 15_000) {
    await sleep(200);
    result = await sshRun(session.ssh_private_key_path, session.ssh_port, user, command);
  }
  return result;
}

function readBanner(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({host: '127.0.0.1', port});
    let text = '';
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\n')) socket.destroy();
    });
    socket.on('error', () => resolve(''));
    socket.on('close', () => resolve(text));
  });
}

describe('a reboot on a GPU host', () => {
  const stopContainers = async (ids: string[]) => execa('docker', ['stop', '-t', '1', ...ids]);
  const standIn = (env: Record<string, string>, args: string[]) =>
    execa('node', [NVIDIA_SMI_STAND_IN, ...args], {env});

  it('moves pool sessions to their profile’s new devices, ends the one whose profile is gone', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
    const bob = await create('gbob', ['--profile', '1g.5gb'], env);
    const carol = await create('gcarol', ['--mig-instance', 'MIG-c42101f0-a1fa-5b68-8908-7c5c887f28bd'], env);
    await stopContainers([bob.container_id, carol.container_id]);
    // mig-parted makes the 1g.5gb device again with a new UUID; the 4g.20gb one is not made again.
    await standIn(env, ['--sandman-test-reboot', '--drop', '4g.20gb']);
    const list = String((await standIn(env, ['-L'])).stdout);
    const newUuid = /MIG 1g\.5gb\s+Device\s+\d+: \(UUID: (MIG-[^)]+)\)/.exec(list)?.[1];
    expect(newUuid).toBeDefined();
    expect(newUuid).not.toBe(bob.gpu_uuid);
    const reap = await sandbox.json<{items: Array<Record<string, unknown>>}>(['reap'], {env});
    expect(reap.exitCode, JSON.stringify(reap.body)).toBe(0);
    expect(reap.body.items.map((item) => [item.action, item.user, item.result]).sort()).toEqual([
      ['remove-session', 'gcarol', 'done'],
      ['resume-session', 'gbob', 'done'],
    ]);
    const state = await readState(sandbox.stateFile);
    const record = sessionOf(state, 'gbob')!;
    expect(record).toMatchObject({gpu_uuid: newUuid, ssh_port: bob.ssh_port, status: 'running'});
    expect(sessionOf(state, 'gcarol')).toBeUndefined();
    const inspect = JSON.parse(String((await execa('docker', ['inspect', record.container_id!])).stdout))[0];
    expect(inspect.HostConfig.DeviceRequests[0].DeviceIDs).toEqual([newUuid]);
    expect(inspect.State.Running).toBe(true);
    expect(inspect.RestartCount).toBe(0);
    expect(await devicesSeenByHook(record.container_id!)).toBe(newUuid);
    expect((await sshEventually(bob, 'gbob', 'id -un')).stdout).toBe('gbob');
    const audit = (await readFile(path.join(sandbox.dir, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(audit.at(-1)).toMatchObject({action: 'reap', user: expect.stringMatching(/^g(bob|carol)$/)});
    const ended = audit.find((entry) => entry.action === 'reap' && entry.user === 'gcarol');
    expect(ended.reason).toMatch(/^stopped: GPU device MIG-c42101f0-\S+ is gone and /);
    expect(await sandbox.containers()).toHaveLength(1);
    expect((await sandbox.run(['session', 'rm', 'gbob'], {env})).exitCode).toBe(0);
  });

  it('makes a new device for a dynamic-mode session whose device did not come back', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'a100-dynamic-r580', {SANDMAN_MIG_MODE: 'dynamic'});
    const dora = await create('gdora', ['--profile', '3g.20gb'], env);
    await stopContainers([dora.container_id]);
    await standIn(env, ['--sandman-test-reboot']);
    const reap = await sandbox.json<{items: Array<Record<string, unknown>>}>(['reap'], {env});
    expect(reap.body.items).toEqual([
      expect.objectContaining({action: 'resume-session', user: 'gdora', result: 'done'}),
    ]);
    const record = sessionOf(await readState(sandbox.stateFile), 'gdora')!;
    expect(record.gpu_uuid).not.toBe(dora.gpu_uuid);
    expect(String((await standIn(env, ['-L'])).stdout)).toContain(record.gpu_uuid!);
    expect(await devicesSeenByHook(record.container_id!)).toBe(record.gpu_uuid);
    expect((await sshEventually(dora, 'gdora', 'true')).exitCode).toBe(0);
    expect((await sandbox.run(['session', 'rm', 'gdora'], {env})).exitCode).toBe(0);
  });

  it('the engine refuses a device the host does not have, as the NVIDIA runtime does', async () => {
    const run = await execa(
      'docker',
      ['run', '--rm', '--gpus', 'device=MIG-00000000-dead-beef-0000-000000000000', TEST_IMAGE, 'true'],
      {reject: false},
    );
    expect(run.exitCode).not.toBe(0);
    expect(String(run.stderr)).toContain('MIG-00000000-dead-beef-0000-000000000000: unknown device');
  });

  it('doctor reports sessions whose container is not running', async () => {
    const gus = await create('gus', ['--no-gpu']);
    await stopContainers([gus.container_id]);
    const doctor = await sandbox.json<{checks: Array<{name: string; detail: string}>}>([
      'doctor',
      '--unit-dir',
      sandbox.dir,
    ]);
    const state = doctor.body.checks.find((check) => check.name === 'state file');
    expect(state?.detail).toContain('1 session container(s) not running (sandman-gus-');
    expect((await sandbox.json(['reap'])).exitCode).toBe(0);
    expect((await sshEventually(gus, 'gus', 'true')).exitCode).toBe(0);
  });
});
