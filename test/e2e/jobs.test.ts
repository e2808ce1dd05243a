import {appendFile, readFile, stat} from 'node:fs/promises';
import path from 'node:path';

import SwaggerParser from '@apidevtools/swagger-parser';
import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {devicesSeenByHook, fakeGpuEnv} from '../helpers/fake-gpu.js';
import {killAtFaultPoint} from '../helpers/fault-point.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {socketActivatedApi, stopActivator} from '../helpers/socket-activated-api.js';
import {readState} from '../helpers/state-file.js';

/**
 * Batch jobs (docs/admin/jobs.md) on the replayed 8-GPU host and the replayed A100: the built CLI
 * against the real engine, jobs in the sessions' line, their devices, ends, logs and crashes.
 */
interface Job {
  job_id: string;
  user: string;
  state: string;
  exit_code: number | null;
  reason: string | null;
  gpu_uuid: string | null;
  queue_position?: number;
  started_at: string | null;
  ended_at: string | null;
}

let sandbox: Sandbox;
let mig: Sandbox;
let gpu: Record<string, string>;
beforeAll(() => {
  sandbox = createSandbox({
    portStart: 35_700,
    portCount: 40,
    config: {groups: {capped: {gpuHourBudget: '1h/7d'}}, jobLogLimit: '64k'},
  });
  gpu = fakeGpuEnv(sandbox.dir, 'rtx-pro-6000-x8-no-mig');
  // Every sandman process of this host sees its GPUs (any of them may start the line's head).
  Object.assign(sandbox.env, gpu);
  mig = createSandbox({portStart: 35_750, portCount: 40});
  Object.assign(mig.env, fakeGpuEnv(mig.dir, 'a100-mig-r580'));
});
afterAll(async () => {
  await sandbox.cleanup();
  await mig.cleanup();
});

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** GPU-hours a user had, as audit lines of an earlier whole-GPU session each (1 h each). */
async function usedHours(box: Sandbox, user: string, hours: number): Promise<void> {
  const now = Date.now();
  for (let index = 0; index < hours; index++) {
    const start = now - (index + 2) * 2 * 3_600_000;
    await appendFile(
      box.env.SANDMAN_AUDIT_LOG!,
      JSON.stringify({
        time: iso(start),
        actor: 'root',
        action: 'create',
        session: `${user}-old-${index}`,
        user,
        result: 'ok',
        gpu_uuid: 'GPU-old',
        mig_profile: null,
        gpu_fraction: 1,
        expires_at: iso(start + 3_600_000),
      }) + '\n',
    );
  }
}

/** `job submit … --json -- CMD`: --json goes before the command's `--`. */
async function submitJson<T = Job>(
  box: Sandbox,
  env: Record<string, string>,
  args: string[],
): Promise<{exitCode: number; body: T; stderr: string}> {
  const split = args.indexOf('--');
  const result = await box.run(['job', 'submit', ...args.slice(0, split), '--json', ...args.slice(split)], {
    env,
  });
  return {exitCode: result.exitCode, body: JSON.parse(result.stdout) as T, stderr: result.stderr};
}

async function submit(box: Sandbox, env: Record<string, string>, args: string[]): Promise<Job> {
  const result = await submitJson(box, env, args);
  expect(result.exitCode, result.stderr).toBe(0);
  return result.body;
}

async function jobs(box: Sandbox): Promise<Job[]> {
  return (await box.json<Job[]>(['job', 'ls', '--all'])).body;
}

describe('jobs on the replayed 8-GPU host', () => {
  it('share the sessions’ line: 8 run at once on their own devices, the lightest user is next, and an attached --wait hands the GPU over at its exit', async () => {
    // Eight jobs take the eight GPUs; the eighth is attached (--wait) and exits 3 after a moment.
    const fillers: Job[] = [];
    for (let index = 1; index <= 7; index++)
      fillers.push(await submit(sandbox, gpu, [`f${index}`, '--gpu', 'any', '--', 'sleep', '120']));
    const attached = sandbox.run(
      [
        'job',
        'submit',
        'f8',
        '--gpu',
        'any',
        '--wait',
        '--',
        'sh',
        '-c',
        'echo "sees $NVIDIA_VISIBLE_DEVICES"; sleep 8; exit 3',
      ],
      {env: gpu},
    );
    // Four users with different GPU-hours submit, heaviest first: the line orders them lightest first.
    await usedHours(sandbox, 'q1', 0);
    await usedHours(sandbox, 'q2', 1);
    await usedHours(sandbox, 'q3', 2);
    await usedHours(sandbox, 'q4', 3);
    const runningNow = async () =>
      ((await readState(sandbox.stateFile)).jobs ?? []).filter((job) => job.state === 'running').length;
    for (let tries = 0; (await runningNow()) < 8 && tries < 40; tries++)
      await new Promise((resolve) => setTimeout(resolve, 250));
    const commands: Record<string, string[]> = {
      q4: ['true'],
      q3: ['true'],
      q2: ['true'],
      q1: ['sh', '-c', 'kill -9 $$'],
    };
    const queued: Record<string, Job> = {};
    for (const user of ['q4', 'q3', 'q2', 'q1'])
      queued[user] = await submit(sandbox, gpu, [user, '--gpu', 'any', '--', ...commands[user]!]);
    expect(Object.values(queued).map((job) => job.state)).toEqual(['queued', 'queued', 'queued', 'queued']);
    const line = (await jobs(sandbox)).filter((job) => job.state === 'queued');
    expect(line.map((job) => [job.user, job.queue_position])).toEqual([
      ['q4', 4],
      ['q3', 3],
      ['q2', 2],
      ['q1', 1],
    ]);
    const table = await sandbox.run(['job', 'ls']);
    expect(table.stdout).toMatch(/^\S+ +q1 +- +queued \(1st\) +a whole GPU /m);

    // Each running job got a device of its own, and its container was given exactly that one.
    const running = (await readState(sandbox.stateFile)).jobs!.filter((job) => job.state === 'running');
    expect(running).toHaveLength(8);
    expect(new Set(running.map((job) => job.gpu_uuid)).size).toBe(8);
    for (const job of running) expect(await devicesSeenByHook(job.container_id!)).toBe(job.gpu_uuid);

    // Cancel a queued job: it leaves the line.
    const cancelled = await sandbox.json<Job>(['job', 'cancel', queued.q4!.job_id], {env: gpu});
    expect([cancelled.exitCode, cancelled.body.state]).toEqual([0, 'cancelled']);

    // The attached job exits 3: --wait printed its output and exits with its code; the GPU went
    // to the head of the line (q1) within 2 s, the others still wait.
    const waited = await attached;
    expect(waited.exitCode).toBe(3);
    const f8 = running.find((job) => job.user === 'f8')!;
    expect(waited.stdout).toContain(`sees ${f8.gpu_uuid}`);
    expect(waited.stderr).toMatch(/exited \(exit code 3\)/);
    const after = (await readState(sandbox.stateFile)).jobs!;
    const ended = after.find((job) => job.id === f8.id)!;
    const head = after.find((job) => job.user === 'q1')!;
    expect(head.gpu_uuid, `${JSON.stringify(head)}\n${waited.stderr}`).toBe(f8.gpu_uuid);
    expect(Date.parse(head.started_at!) - Date.parse(ended.ended_at!)).toBeLessThanOrEqual(2000);
    expect(after.filter((job) => job.state === 'queued').map((job) => job.user)).toEqual(['q3', 'q2']);
    const shown = await sandbox.run(['job', 'show', f8.id]);
    expect(shown.exitCode).toBe(3);
    expect(shown.stdout).toMatch(/State: +exited/);

    // Cancel a running job (SIGTERM reaches its command): its GPU goes to the next (q2).
    const stopped = await sandbox.json<Job>(['job', 'cancel', fillers[0]!.job_id], {env: gpu});
    expect([stopped.exitCode, stopped.body.state, stopped.body.exit_code]).toEqual([0, 'cancelled', 143]);
    // q1 was killed (137), q2 exited 0: one reap collects both.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const reap = await sandbox.json<{items: Array<{action: string; session_id: string}>}>(['reap'], {
      env: gpu,
    });
    expect(reap.body.items.filter((item) => item.action === 'collect-job')).toHaveLength(2);
    const final = await jobs(sandbox);
    const of = (user: string) => final.find((job) => job.user === user)!;
    expect([of('q1').state, of('q1').exit_code]).toEqual(['exited', 137]);
    expect([of('q2').state, of('q2').exit_code]).toEqual(['exited', 0]);
    expect(of('q3').state).toBe('running');
    expect(await sandbox.run(['job', 'show', of('q1').job_id])).toMatchObject({exitCode: 137});
    // The rest end (cancelled) so the next tests find the GPUs free.
    await Promise.all(fillers.slice(1).map((job) => sandbox.run(['job', 'cancel', job.job_id], {env: gpu})));
    await sandbox.run(['reap'], {env: gpu});
    expect((await readState(sandbox.stateFile)).jobs!.filter((job) => job.state === 'running')).toEqual([]);
  });

  it('budgets refuse a GPU job (exit 8, with the numbers); userMaxJobs keeps a user’s second job waiting', async () => {
    expect((await sandbox.run(['user', 'add', 'capped1', '--group', 'capped'])).exitCode).toBe(0);
    await usedHours(sandbox, 'capped1', 2);
    const refused = await submitJson<{error: {message: string; exit_code: number}}>(sandbox, gpu, [
      'capped1',
      '--gpu',
      'any',
      '--',
      'true',
    ]);
    expect(refused.exitCode).toBe(8);
    expect(refused.body.error.message).toMatch(
      /capped1 used 2\.0 of 1 GPU-hours in the last 7d \(gpuHourBudget, from group capped\)/,
    );
    const first = await submit(sandbox, gpu, ['solo', '--no-gpu', '--', 'sleep', '3']);
    const second = await submit(sandbox, gpu, ['solo', '--no-gpu', '--', 'true']);
    expect([first.state, second.state]).toEqual(['running', 'queued']);
    // Attached to the second: it starts once the first exits, and ends.
    const waited = await sandbox.run(['job', 'submit', 'solo', '--no-gpu', '--wait', '--', 'true']);
    expect(waited.exitCode).toBe(0);
    const solo = (await jobs(sandbox)).filter((job) => job.user === 'solo');
    expect(solo.map((job) => job.state)).toEqual(['exited', 'exited', 'exited']);
  });

  it('a job over its TTL is stopped and marked timeout; logs survive the container, capped, in her home as her', async () => {
    const long = await submit(sandbox, {}, ['tess', '--no-gpu', '--ttl', '2s', '--', 'sleep', '60']);
    const noisy = await submit(sandbox, {}, [
      'uma',
      '--no-gpu',
      '--',
      'sh',
      '-c',
      'x=$(printf "%090d" 0); i=0; while [ $i -lt 2000 ]; do echo "line $i $x"; i=$((i+1)); done; echo done >&2',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const reap = await sandbox.json<{items: Array<{action: string; reason: string; session_id: string}>}>([
      'reap',
    ]);
    expect(reap.body.items).toContainEqual(
      expect.objectContaining({action: 'stop-job', reason: 'timeout', session_id: long.job_id}),
    );
    const listed = await jobs(sandbox);
    const timedOut = listed.find((job) => job.job_id === long.job_id)!;
    expect([timedOut.state, timedOut.reason]).toEqual(['timeout', 'ran past its TTL']);
    expect(listed.find((job) => job.job_id === noisy.job_id)!.state).toBe('exited');

    const file = path.join(sandbox.workspaceRoot, 'uma', '.sandman', 'jobs', `${noisy.job_id}.log`);
    const info = await stat(file);
    const uid = (await readState(sandbox.stateFile)).users.uma!.uid;
    expect([info.uid, info.mode & 0o777]).toEqual([uid, 0o600]);
    const kept = await readFile(file, 'utf8');
    expect(kept.length).toBeLessThanOrEqual(64 * 1024);
    expect(kept).toMatch(/^\[sandman: older output dropped \(jobLogLimit\)\]\nline \d+ 0{90}\n/);
    expect(kept).toMatch(/line 1999 0{90}\n(done\n)?$/);
    expect(kept).toContain('done\n');
    expect(kept).not.toContain('line 0 ');
    const printed = await sandbox.run(['job', 'logs', noisy.job_id]);
    // (execa drops the last newline of what it read.)
    expect(`${printed.stdout}\n`).toBe(kept);
  });

  it('kill -9 of sandman at each step of a job’s start, and while collecting its end, leaves nothing after one reap', async () => {
    for (const point of ['reserved', 'container-created', 'container-started']) {
      await killAtFaultPoint(
        ['job', 'submit', `crash-${point.split('-')[1] ?? 'x'}`, '--gpu', 'any', '--', 'sleep', '60'],
        {...sandbox.env, ...gpu},
        point,
      );
    }
    const before = (await readState(sandbox.stateFile)).jobs!.filter((job) => job.user.startsWith('crash-'));
    expect(before.map((job) => job.state)).toEqual(['running', 'running', 'running']);
    const reaped = await sandbox.run(['reap', '--json'], {env: gpu});
    const after = (await readState(sandbox.stateFile)).jobs!.filter((job) => job.user.startsWith('crash-'));
    expect(
      after.map((job) => job.state),
      reaped.stdout + reaped.stderr,
    ).not.toContain('queued');
    // Killed before its container started: failed, nothing left; killed after: it runs on.
    expect(after.map((job) => [job.user, job.state, job.reason])).toEqual([
      ['crash-x', 'failed', 'sandman stopped while starting it'],
      ['crash-created', 'failed', 'sandman stopped while starting it'],
      ['crash-started', 'running', null],
    ]);
    const running = (await readState(sandbox.stateFile)).jobs!.filter((job) => job.state === 'running');
    expect(await sandbox.containers()).toEqual(running.map((job) => job.container_id));

    // Killed while collecting a job's end (recorded, its container not removed yet): one reap
    // removes the container; the job stays ended with its exit code.
    await killAtFaultPoint(
      ['job', 'submit', 'crash-end', '--no-gpu', '--wait', '--', 'sh', '-c', 'exit 4'],
      sandbox.env,
      'job-ended',
    );
    const collected = (await readState(sandbox.stateFile)).jobs!.find((job) => job.user === 'crash-end')!;
    expect([collected.state, collected.exit_code]).toEqual(['exited', 4]);
    expect(await sandbox.containers()).toContain(collected.container_id);
    await sandbox.run(['reap']);
    expect(await sandbox.containers()).not.toContain(collected.container_id);
    const held = running.map((job) => job.gpu_uuid);
    const available = await sandbox.json<{devices: Array<{uuid: string}>}>(['gpu', 'available'], {env: gpu});
    expect(available.body.devices).toHaveLength(8 - held.length);
  });
});

describe('jobs on the replayed A100 (MIG)', () => {
  it('a job on a 1g.5gb slice sees exactly that device; a second waits for the next one', async () => {
    const env = fakeGpuEnv(mig.dir, 'a100-mig-r580');
    const slice = 'MIG-20301a31-77fa-59ec-b0b8-7ef543821f29';
    const first = await submit(mig, env, [
      'mia',
      '--profile',
      '1g.5gb',
      '--',
      'sh',
      '-c',
      'echo "$NVIDIA_VISIBLE_DEVICES"; sleep 2',
    ]);
    expect([first.state, first.gpu_uuid]).toEqual(['running', slice]);
    const record = (await readState(mig.stateFile)).jobs!.find((job) => job.id === first.job_id)!;
    expect(await devicesSeenByHook(record.container_id!)).toBe(slice);
    const second = await submit(mig, env, ['nia', '--profile', '1g.5gb', '--', 'true']);
    expect([second.state, second.queue_position]).toEqual(['queued', 1]);
    const logs = await mig.run(['job', 'logs', '-f', first.job_id], {env});
    expect(logs.stdout).toBe(slice);
    // `logs -f` saw the end: the slice went to the next job without a reap.
    const next = (await mig.json<Job>(['job', 'show', second.job_id])).body;
    expect(next.gpu_uuid).toBe(slice);
    expect(['running', 'exited']).toContain(next.state);
  });
});

describe('the jobs API', () => {
  /** curl over the API's unix socket: status and parsed body (read field by field, as a client would). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function curl(socket: string, args: string[]): Promise<{status: number; body: any}> {
    const result = await execa('curl', ['-s', '-w', '\n%{http_code}', '--unix-socket', socket, ...args], {
      reject: false,
    });
    const text = String(result.stdout);
    const split = text.lastIndexOf('\n');
    const body = text.slice(0, split);
    let parsed: unknown = body;
    try {
      parsed = JSON.parse(body);
    } catch {
      // not JSON
    }
    return {status: Number(text.slice(split + 1)), body: parsed};
  }

  it('POST /jobs, GET /jobs, GET /jobs/{id}, its logs, DELETE /jobs/{id}, in the OpenAPI document', async () => {
    const socket = path.join(sandbox.dir, 'api.sock');
    const api = socketActivatedApi(socket, {...sandbox.env, SANDMAN_API_IDLE_TIMEOUT: '5s'});
    try {
      for (
        let attempt = 0;
        attempt < 50 && (await curl(socket, ['http://x/healthz'])).status !== 200;
        attempt++
      )
        await new Promise((resolve) => setTimeout(resolve, 100));
      const post = (body: unknown) =>
        curl(socket, [
          '-X',
          'POST',
          '-H',
          'Content-Type: application/json',
          '-d',
          JSON.stringify(body),
          'http://x/jobs',
        ]);
      const made = await post({
        user_id: 'api1',
        gpu: 'none',
        command: ['sh', '-c', 'echo from the api; exit 3'],
      });
      expect(made.status, JSON.stringify(made.body)).toBe(201);
      expect(made.body).toMatchObject({
        user: 'api1',
        state: 'running',
        command: ['sh', '-c', 'echo from the api; exit 3'],
      });
      let shown = made;
      for (let attempt = 0; attempt < 40 && shown.body.state === 'running'; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        shown = await curl(socket, [`http://x/jobs/${made.body.job_id}`]);
      }
      expect([shown.status, shown.body.state, shown.body.exit_code]).toEqual([200, 'exited', 3]);
      const logs = await curl(socket, [`http://x/jobs/${made.body.job_id}/logs`]);
      expect(logs.body).toEqual({job_id: made.body.job_id, logs: 'from the api\n'});
      const listed = await curl(socket, ['http://x/jobs?all=true&user=api1']);
      expect(listed.body.map((entry: {job_id: string}) => entry.job_id)).toEqual([made.body.job_id]);

      const long = await post({user_id: 'api2', gpu: 'none', command: ['sleep', '60']});
      const cancelled = await curl(socket, ['-X', 'DELETE', `http://x/jobs/${long.body.job_id}`]);
      expect([cancelled.status, cancelled.body.state]).toEqual([200, 'cancelled']);
      const bad = await post({user_id: 'api3', command: 'not a list'});
      expect(bad.status).toBe(400);
      expect((await curl(socket, ['http://x/jobs/nosuchjob'])).status).toBe(404);
      const document = (await curl(socket, ['http://x/openapi.json'])).body;
      expect(Object.keys(document.paths)).toEqual(
        expect.arrayContaining(['/jobs', '/jobs/{id}', '/jobs/{id}/logs']),
      );
      await SwaggerParser.validate(document);
    } finally {
      await stopActivator(api);
    }
  });
});
