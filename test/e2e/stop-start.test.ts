import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {killAtFaultPoint} from '../helpers/fault-point.js';
import {devicesSeenByHook, fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

/**
 * `session stop` and `session start` (docs/admin/sessions.md "Stop and start") on the real engine and the replayed
 * A100 in MIG mode, with the NVIDIA hook stand-in's log saying which device each container got.
 */
interface View {
  session_id: string;
  container_id: string;
  ssh_port: number;
  ssh_private_key_path: string;
  gpu_uuid: string | null;
  status: string;
  expires_at: string;
  remaining_ms: number | null;
  device?: string;
  already?: boolean;
  gpu_freed?: string | null;
}
const PROFILE = '1c.2g.10gb';
let sandbox: Sandbox;
let gpu: Record<string, string>;
let knownHosts: string;
beforeAll(async () => {
  sandbox = createSandbox({portStart: 35_400, portCount: 20});
  gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
  knownHosts = path.join(sandbox.dir, 'known_hosts');
  await writeFile(knownHosts, (await sandbox.run(['known-hosts'])).stdout + '\n');
});
afterAll(async () => {
  await sandbox.cleanup();
});

const json = <T = View>(args: string[], env: Record<string, string> = {}) =>
  sandbox.json<T>(args, {env: {...gpu, ...env}});
/** Logs in with the session's key, its host key checked against the CA line only. */
const login = (session: View, command: string) =>
  execa(
    'ssh',
    [
      ...strictHostKeyOptions(knownHosts),
      '-i',
      session.ssh_private_key_path,
      '-p',
      String(session.ssh_port),
      'alice@127.0.0.1',
      command,
    ],
    {reject: false, stdin: 'ignore'},
  );
const deviceRequests = async (container: string) =>
  JSON.parse((await execa('docker', ['inspect', container])).stdout)[0].HostConfig.DeviceRequests as Array<{
    DeviceIDs: string[];
  }>;
const sessionImages = async (id: string) =>
  (await execa('docker', ['images', '-q', '--no-trunc', `sandman-session/${id}`])).stdout
    .split('\n')
    .filter(Boolean);
const auditLines = async () =>
  (await execa('cat', [sandbox.env.SANDMAN_AUDIT_LOG!])).stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as {action: string; reason?: string; session: string | null});

describe('stop and start', () => {
  let alice: View;

  it('stop frees the device for the next create and keeps everything else; start moves to another device from a commit', async () => {
    const created = await json(['session', 'create', 'alice', '--profile', PROFILE]);
    expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
    alice = created.body;
    const wrote = await login(alice, 'echo tool > /var/tmp/tool && echo notes > ~/notes && echo ok');
    expect(wrote.stdout.trim(), wrote.stderr).toBe('ok');

    const stopped = await json(['session', 'stop', 'alice']);
    expect(stopped.exitCode).toBe(0);
    expect(stopped.body).toMatchObject({status: 'stopped', gpu_freed: alice.gpu_uuid, already: false});
    const inspect = JSON.parse((await execa('docker', ['inspect', alice.container_id])).stdout)[0];
    expect(inspect.State.Running).toBe(false);
    const available = await json<{devices: Array<{uuid: string}>}>(['gpu', 'available']);
    expect(available.body.devices.map((device) => device.uuid)).toContain(alice.gpu_uuid);
    // Stopping again is a success that says so.
    expect((await json(['session', 'stop', 'alice'])).body).toMatchObject({already: true});
    const listed = await sandbox.run(['session', 'ls'], {env: gpu});
    expect(listed.stdout).toMatch(
      /alice\s+stopped\s+MIG 1c\.2g\.10gb \(freed\)\s+35400\s+\S+ ago\s+\S+ left/,
    );

    const bob = await json(['session', 'create', 'bob', '--profile', PROFILE, '--no-wait']);
    expect(bob.body.gpu_uuid).toBe(alice.gpu_uuid);
    expect(await devicesSeenByHook(bob.body.container_id)).toBe(alice.gpu_uuid);

    const started = await json(['session', 'start', 'alice']);
    expect(started.exitCode, JSON.stringify(started.body)).toBe(0);
    expect(started.body).toMatchObject({status: 'running', device: 'moved', ssh_port: alice.ssh_port});
    const moved = started.body;
    expect(moved.gpu_uuid).not.toBe(alice.gpu_uuid);
    expect(moved.container_id).not.toBe(alice.container_id);
    expect(await devicesSeenByHook(moved.container_id)).toBe(moved.gpu_uuid);
    expect((await deviceRequests(moved.container_id))[0]!.DeviceIDs).toEqual([moved.gpu_uuid]);
    // Both files are there; same port, key and host key (strict checking, no prompt).
    const read = await login(moved, 'cat /var/tmp/tool ~/notes');
    expect(read.stdout.split('\n'), read.stderr).toEqual(['tool', 'notes']);
    // The old container is gone; the one image left is the one the new container runs from.
    expect((await execa('docker', ['inspect', alice.container_id], {reject: false})).exitCode).not.toBe(0);
    const image = JSON.parse((await execa('docker', ['inspect', moved.container_id])).stdout)[0].Image;
    expect(await sessionImages(alice.session_id)).toEqual([image]);
    expect((await json(['session', 'rm', 'bob'])).exitCode).toBe(0);
    alice = moved;
  });

  it('with its device still free, start takes it back without a commit; the TTL clock paused while stopped', async () => {
    const imagesBefore = await sessionImages(alice.session_id);
    const before = Date.now();
    expect((await json(['session', 'stop', 'alice'])).exitCode).toBe(0);
    const remaining = (await json(['session', 'show', 'alice'])).body.remaining_ms!;
    await sleep(3000);
    const started = await json(['session', 'start', 'alice']);
    expect(started.body).toMatchObject({
      device: 'same',
      gpu_uuid: alice.gpu_uuid,
      container_id: alice.container_id,
    });
    expect(await sessionImages(alice.session_id)).toEqual(imagesBefore);
    // Expiry is the time left at the stop, counted from the start (3 s later), not from before.
    const expires = Date.parse(started.body.expires_at);
    expect(expires - Date.now()).toBeGreaterThan(remaining - 5000);
    expect(expires).toBeGreaterThan(before + remaining + 2000);
    const lines = (await auditLines()).filter((line) => line.action === 'start');
    expect(lines.map((line) => line.reason)).toEqual(['moved', 'same']);
    expect((await login(alice, 'cat ~/notes')).stdout).toBe('notes');
  });

  it('start with nothing of its kind free exits 5 naming what is free and leaves the session stopped', async () => {
    expect((await json(['session', 'stop', 'alice'])).exitCode).toBe(0);
    await json(['session', 'create', 'bob', '--profile', PROFILE, '--no-wait']);
    await json(['session', 'create', 'carol', '--profile', PROFILE, '--no-wait']);
    const refused = await json<{error: {message: string}}>(['session', 'start', 'alice']);
    expect(refused.exitCode).toBe(5);
    expect(refused.body.error.message).toMatch(/no free 1c\.2g\.10gb MIG device; free: .*4g\.20gb/);
    expect((await json(['session', 'show', 'alice'])).body).toMatchObject({
      status: 'stopped',
      gpu_uuid: null,
    });
    // Carol keeps alice's device; bob's goes: the next start of alice must move (and commit).
    expect((await json(['session', 'show', 'carol'])).body.gpu_uuid).toBe(alice.gpu_uuid);
    expect((await sandbox.run(['session', 'rm', 'bob'], {env: gpu})).exitCode).toBe(0);
  });

  it.each(['committing', 'new-container-started'])(
    'a start killed with SIGKILL at "%s" is tidied by one reap: one container, no stray image, never two devices',
    async (point) => {
      const before = await readState(sandbox.stateFile);
      const record = before.sessions.find((session) => session.user === 'alice')!;
      expect(record.status).toBe('stopped');
      await killAtFaultPoint(['session', 'start', 'alice'], {...sandbox.env, ...gpu}, point);
      const reap = await json<{items: Array<{action: string; result: string}>}>(['reap']);
      expect(reap.body.items).toContainEqual(
        expect.objectContaining({action: 'tidy-stopped', result: 'done'}),
      );
      const after = await readState(sandbox.stateFile);
      const session = after.sessions.find((candidate) => candidate.user === 'alice')!;
      expect(session).toMatchObject({status: 'stopped', gpu_uuid: null, container_id: record.container_id});
      const containers = await execa('docker', [
        'ps',
        '-aq',
        '--filter',
        `label=io.sandman.session=${record.id}`,
      ]);
      expect(containers.stdout.split('\n').filter(Boolean)).toHaveLength(1);
      const image = JSON.parse((await execa('docker', ['inspect', record.container_id!])).stdout)[0].Image;
      expect(await sessionImages(record.id)).toEqual([image]);
      // No device held twice: every held device once.
      const held = after.sessions.flatMap((candidate) => (candidate.gpu_uuid ? [candidate.gpu_uuid] : []));
      expect(new Set(held).size).toBe(held.length);
    },
  );

  it('a stopped session stays stopped through reap, and goes after stoppedRetention with its container and image', async () => {
    const record = (await readState(sandbox.stateFile)).sessions.find((session) => session.user === 'alice')!;
    const reap = await json<{items: unknown[]}>(['reap']);
    expect(reap.body.items).toEqual([]);
    expect(
      JSON.parse((await execa('docker', ['inspect', record.container_id!])).stdout)[0].State.Running,
    ).toBe(false);
    const gone = await json<{items: Array<{reason: string; result: string}>}>(['reap'], {
      SANDMAN_STOPPED_RETENTION: '1s',
    });
    expect(gone.body.items).toContainEqual(expect.objectContaining({reason: 'retention', result: 'done'}));
    expect((await readState(sandbox.stateFile)).sessions.map((session) => session.user)).toEqual(['carol']);
    expect((await execa('docker', ['inspect', record.container_id!], {reject: false})).exitCode).not.toBe(0);
    expect(await sessionImages(record.id)).toEqual([]);
    expect((await sandbox.run(['session', 'rm', 'carol'], {env: gpu})).exitCode).toBe(0);
  });
});

describe('idle sessions stop instead of vanishing', () => {
  it('reap stops an idle session and frees its GPU; a CPU job under nohup keeps its session; session start brings it back', async () => {
    const env = {SANDMAN_IDLE_TIMEOUT: '3s'};
    expect((await sandbox.run(['session', 'rm', '--all', '--yes'], {env: gpu})).exitCode).toBe(0);
    const idle = await json(['session', 'create', 'ida', '--profile', '1g.5gb'], env);
    const busy = await json(['session', 'create', 'bea', '--no-gpu'], env);
    // The timer's first reap sets each container's CPU baseline (its start-up is no activity).
    expect((await json<{items: unknown[]}>(['reap'], env)).body.items).toEqual([]);
    const job = await execa(
      'ssh',
      [
        ...strictHostKeyOptions(knownHosts),
        '-i',
        busy.body.ssh_private_key_path,
        '-p',
        String(busy.body.ssh_port),
        'bea@127.0.0.1',
        'nohup sh -c "while :; do :; done" >/dev/null 2>&1 & echo started',
      ],
      {reject: false, stdin: 'ignore'},
    );
    expect(job.stdout.trim(), job.stderr).toBe('started');
    await sleep(4000);
    const reap = await json<{items: Array<{action: string; reason: string; user: string}>}>(['reap'], env);
    expect(reap.body.items).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'ida', result: 'done'}),
    ]);
    const stopped = (await json(['session', 'show', 'ida'])).body;
    expect(stopped).toMatchObject({status: 'stopped', gpu_uuid: null});
    expect((await json(['session', 'show', 'bea'])).body.status).toBe('running');
    const again = await json(['session', 'start', 'ida']);
    expect(again.body).toMatchObject({status: 'running', gpu_uuid: idle.body.gpu_uuid, device: 'same'});
    await sandbox.run(['session', 'rm', 'ida', 'bea'], {env: gpu});
  });
});
