import {spawn} from 'node:child_process';
import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {LABELS} from '../../src/core/labels.js';
import type {ReapReport} from '../../src/reap/reaper.js';
import {TEST_BASE_IMAGE} from '../helpers/constants.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {NVIDIA_SMI_STAND_IN} from '../helpers/fake-gpu.js';
import {createSandbox, SSH_OPTIONS, type Sandbox} from '../helpers/sandbox.js';
import {editState, PAST, readState, sessionOf} from '../helpers/state-file.js';

interface Created {
  session_id: string;
  container_id: string;
  ssh_port: number;
  ssh_private_key_path: string;
  gpu_uuid: string | null;
  workspace: string;
}

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 32_300});
});
afterAll(async () => {
  await sandbox.cleanup();
});

async function create(user: string, extra: string[] = [], env?: Record<string, string>): Promise<Created> {
  const result = await sandbox.json<Created>(['session', 'create', user, '--no-gpu', '--no-wait', ...extra], {
    env,
  });
  expect(result.exitCode, JSON.stringify(result.body)).toBe(0);
  return result.body;
}

async function reap(args: string[] = [], env?: Record<string, string>): Promise<ReapReport> {
  const result = await sandbox.json<ReapReport>(['reap', ...args], {env});
  expect(result.exitCode, JSON.stringify(result.body)).toBe(0);
  return result.body;
}

async function auditLines(): Promise<Array<Record<string, string>>> {
  const text = await readFile(path.join(sandbox.dir, 'audit.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

describe('sandman reap', () => {
  it('removes an expired session (container, port, slice, key, record) and keeps its workspace; leaves a live one', async () => {
    const gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
    const expired = await sandbox.json<Created>(
      ['session', 'create', 'old', '--profile', '1g.5gb', '--no-wait'],
      {env: gpu},
    );
    expect(expired.exitCode).toBe(0);
    const live = await create('young');
    await editState(sandbox.stateFile, (state) => {
      sessionOf(state, 'old')!.expires_at = PAST;
    });

    const dry = await readFile(sandbox.stateFile, 'utf8');
    const preview = await reap(['--dry-run'], gpu);
    expect(preview.items).toEqual([
      expect.objectContaining({action: 'remove-session', reason: 'expired', user: 'old', result: 'would'}),
    ]);
    expect(await readFile(sandbox.stateFile, 'utf8')).toBe(dry);
    expect(await sandbox.containers()).toHaveLength(2);

    const report = await reap([], gpu);
    expect(report.items).toEqual([
      expect.objectContaining({session_id: expired.body.session_id, reason: 'expired', result: 'done'}),
    ]);
    expect(await sandbox.containers()).toEqual([live.container_id]);
    const state = await readState(sandbox.stateFile);
    expect(state.sessions.map((s) => s.user)).toEqual(['young']);
    // The live session's private key and host key directory stay; the expired one's are gone.
    expect((await sandbox.keyFiles()).sort()).toEqual([
      live.session_id,
      `${live.session_id}.host`,
      `${live.session_id}.session`,
    ]);
    expect((await stat(expired.body.workspace)).isDirectory()).toBe(true);
    // The slice is free again, and the port can be handed out again.
    const available = await sandbox.json<{devices: Array<{uuid: string}>}>(['gpu', 'available'], {env: gpu});
    expect(available.body.devices.map((d) => d.uuid)).toContain(expired.body.gpu_uuid);
    const next = await create('again');
    expect(next.ssh_port).toBe(32_300);
    expect((await auditLines()).filter((line) => line.action === 'reap')).toEqual([
      expect.objectContaining({
        session: expired.body.session_id,
        user: 'old',
        result: 'ok',
        reason: 'expired',
      }),
    ]);
    expect((await sandbox.run(['session', 'rm', 'young', 'again'])).exitCode).toBe(0);
  });

  it('removes a container of this instance that has no record, and leaves other instances alone', async () => {
    const mine = await execa('docker', [
      'run',
      '-d',
      '--label',
      `${LABELS.instance}=${sandbox.instance}`,
      '--label',
      `${LABELS.session}=0123456789ab`,
      TEST_BASE_IMAGE,
      'sleep',
      '600',
    ]);
    const theirs = await execa('docker', [
      'run',
      '-d',
      '--label',
      `${LABELS.instance}=someoneelse1`,
      '--label',
      `${LABELS.session}=0123456789ab`,
      TEST_BASE_IMAGE,
      'sleep',
      '600',
    ]);
    try {
      const report = await reap();
      expect(report.items).toEqual([
        expect.objectContaining({
          action: 'remove-container',
          reason: 'orphan',
          session_id: '0123456789ab',
          result: 'done',
        }),
      ]);
      expect(await sandbox.containers()).toEqual([]);
      const other = await execa('docker', ['inspect', '-f', '{{.State.Running}}', theirs.stdout.trim()]);
      expect(other.stdout).toBe('true');
    } finally {
      await execa('docker', ['rm', '-f', mine.stdout.trim(), theirs.stdout.trim()], {reject: false});
    }
  });

  it('cleans a record whose container was removed by hand', async () => {
    const session = await create('dangler');
    await execa('docker', ['rm', '-f', session.container_id]);
    const report = await reap();
    expect(report.items).toEqual([
      expect.objectContaining({session_id: session.session_id, reason: 'dangling', result: 'done'}),
    ]);
    expect((await readState(sandbox.stateFile)).sessions).toEqual([]);
    expect(await sandbox.keyFiles()).toEqual([]);
  });

  it('releases a create that died half-way: after 10 minutes, or at once when its process is gone', async () => {
    const slow = await create('slowpoke');
    const crashed = await create('crashed');
    const fresh = await create('fresh');
    await editState(sandbox.stateFile, (state) => {
      Object.assign(sessionOf(state, 'slowpoke')!, {
        status: 'creating',
        creator_pid: process.pid,
        created_at: new Date(Date.now() - 11 * 60_000).toISOString(),
      });
      Object.assign(sessionOf(state, 'crashed')!, {status: 'creating', creator_pid: 999_999_999});
      Object.assign(sessionOf(state, 'fresh')!, {status: 'creating', creator_pid: process.pid});
    });
    const report = await reap();
    expect(report.items.map((item) => [item.user, item.reason, item.result]).sort()).toEqual([
      ['crashed', 'stale', 'done'],
      ['slowpoke', 'stale', 'done'],
    ]);
    expect(await sandbox.containers()).toEqual([fresh.container_id]);
    expect(slow.session_id).not.toBe(crashed.session_id);
    expect((await sandbox.run(['session', 'rm', 'fresh'])).exitCode).toBe(0);
  });

  it('two reaps started together do each thing once', async () => {
    const users = ['twin1', 'twin2', 'twin3'];
    for (const user of users) await create(user);
    await editState(sandbox.stateFile, (state) => {
      for (const session of state.sessions) session.expires_at = PAST;
    });
    const before = (await auditLines()).length;
    const [first, second] = await Promise.all([reap(), reap()]);
    const done = [...first.items, ...second.items].filter((item) => item.result === 'done');
    expect(done.map((item) => item.user).sort()).toEqual(users);
    expect(await sandbox.containers()).toEqual([]);
    expect((await auditLines()).slice(before).filter((line) => line.action === 'reap')).toHaveLength(3);
  });

  it('warns open terminals once before expiry', async () => {
    const session = await create('warnme', ['--ttl', '5']);
    // Wait until sshd answers, then hold an interactive terminal open while reap runs.
    await execa('sh', [
      '-c',
      `for i in $(seq 1 50); do ssh ${SSH_OPTIONS.join(' ')} -i ${session.ssh_private_key_path} -p ${session.ssh_port} warnme@127.0.0.1 true && exit 0; sleep 0.2; done; exit 1`,
    ]);
    const terminal = spawn(
      'ssh',
      [
        ...SSH_OPTIONS,
        '-tt',
        '-i',
        session.ssh_private_key_path,
        '-p',
        String(session.ssh_port),
        'warnme@127.0.0.1',
        'sleep 6',
      ],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let seen = '';
    terminal.stdout.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const report = await reap();
    expect(report.items).toEqual([
      expect.objectContaining({action: 'warn', reason: 'expiring', user: 'warnme', result: 'done'}),
    ]);
    await new Promise((resolve) => terminal.on('close', resolve));
    expect(seen).toMatch(/sandman: this session \([0-9a-f]{12}\) ends in [45]m/);
    expect((await reap()).items).toEqual([]);
    expect(sessionOf(await readState(sandbox.stateFile), 'warnme')!.warned_at).toMatch(/Z$/);
    expect((await sandbox.run(['session', 'rm', 'warnme'])).exitCode).toBe(0);
  });

  it('with idleTimeout and idleAction remove, removes a session nobody is logged in to and keeps one with a connection', async () => {
    const idle = await create('idler');
    const busy = await create('worker');
    // The timer's first reap sets each container's CPU baseline: their start-up is no activity.
    expect((await reap([], {SANDMAN_IDLE_TIMEOUT: '2s', SANDMAN_IDLE_ACTION: 'remove'})).items).toEqual([]);
    await execa('sh', [
      '-c',
      `for i in $(seq 1 50); do ssh ${SSH_OPTIONS.join(' ')} -i ${busy.ssh_private_key_path} -p ${busy.ssh_port} worker@127.0.0.1 true && exit 0; sleep 0.2; done; exit 1`,
    ]);
    const connection = spawn(
      'ssh',
      [
        ...SSH_OPTIONS,
        '-i',
        busy.ssh_private_key_path,
        '-p',
        String(busy.ssh_port),
        'worker@127.0.0.1',
        'sleep 8',
      ],
      {stdio: 'ignore'},
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // idleAction stop (the default) is test/e2e/stop-start.test.ts's: here the removal.
      const report = await reap([], {SANDMAN_IDLE_TIMEOUT: '2s', SANDMAN_IDLE_ACTION: 'remove'});
      expect(report.items).toEqual([
        expect.objectContaining({user: 'idler', reason: 'idle', result: 'done'}),
      ]);
      expect(await sandbox.containers()).toEqual([busy.container_id]);
      expect(sessionOf(await readState(sandbox.stateFile), 'worker')!.last_active_at).toMatch(/Z$/);
      expect(idle.session_id).toMatch(/^[0-9a-f]{12}$/);
    } finally {
      connection.kill();
    }
    expect((await sandbox.run(['session', 'rm', 'worker'])).exitCode).toBe(0);
  });

  it('judges idleness by activity: a CPU job under nohup and a GPU process keep their sessions', async () => {
    const env = {
      SANDMAN_IDLE_TIMEOUT: '3s',
      SANDMAN_IDLE_ACTION: 'remove',
      SANDMAN_NVIDIA_SMI: NVIDIA_SMI_STAND_IN,
      SANDMAN_FAKE_GPU_HOST: 'rtx-pro-6000-x8-no-mig',
    };
    const trainer = await create('trainer');
    const gpuUser = await create('cuda');
    const quiet = await create('quiet');
    expect((await reap([], env)).items).toEqual([]);
    // A CPU loop started with nohup, then the user logs out: nobody is connected.
    await execa('sh', [
      '-c',
      `for i in $(seq 1 50); do ssh ${SSH_OPTIONS.join(' ')} -i ${trainer.ssh_private_key_path} -p ${trainer.ssh_port} trainer@127.0.0.1 'nohup sh -c "while :; do :; done" >/dev/null 2>&1 &' && exit 0; sleep 0.2; done; exit 1`,
    ]);
    // nvidia-smi's compute-apps answer lists a process of cuda's container (its main process).
    const cudaPid = (await execa('docker', ['inspect', '-f', '{{.State.Pid}}', gpuUser.container_id])).stdout;
    const gpuEnv = {...env, SANDMAN_FAKE_GPU_COMPUTE_PIDS: cudaPid};
    await new Promise((resolve) => setTimeout(resolve, 3500));
    const first = await reap([], gpuEnv);
    expect(first.items.map((item) => [item.user, item.reason])).toEqual([['quiet', 'idle']]);
    // Well past the timeout, with reaps in between: still there while they work.
    for (let round = 0; round < 2; round++) {
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect((await reap([], gpuEnv)).items).toEqual([]);
    }
    const shown = await sandbox.json<{last_active_reason: string}>(['session', 'show', 'trainer']);
    expect(shown.body.last_active_reason).toBe('cpu');
    const human = await sandbox.run(['session', 'show', 'cuda']);
    expect(human.stdout).toMatch(/^Active: +\d{4}-\d\d-\d\d \d\d:\d\d UTC \(.*, gpu\)$/m);
    const listed = await sandbox.run(['session', 'ls']);
    expect(listed.stdout.split('\n')[0]).toMatch(/\bIDLE$/);
    expect(quiet.session_id).toMatch(/^[0-9a-f]{12}$/);
    for (const user of ['trainer', 'cuda'])
      expect((await sandbox.run(['session', 'rm', user])).exitCode).toBe(0);
  });

  it('does nothing quickly when there is nothing to do', async () => {
    const report = await reap();
    expect(report.items).toEqual([]);
    const human = await sandbox.run(['reap']);
    expect(human.stdout).toMatch(/^Nothing to reap \(\d+ ms\)\.$/m);
  });
});
