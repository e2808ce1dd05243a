import {Readable} from 'node:stream';

import {describe, expect, it} from 'vitest';

import {renderMetrics} from '../../src/audit/metrics.js';
import {isSandmanError} from '../../src/core/errors.js';
import {LABELS} from '../../src/core/labels.js';
import {newestBytes} from '../../src/jobs/job-log-store.js';
import type {JobRequest} from '../../src/jobs/job-service.js';
import {jobExitStatus} from '../../src/jobs/job-view.js';
import {gpuHoursOf, intervalsFromAudit, summarise} from '../../src/usage/usage-report.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {isQueued} from '../../src/session/session-queue.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {FakeCluster} from '../fakes/fake-cluster.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** Batch jobs (README "Batch jobs") on the fakes: the shared queue, limits, ends, the reaper. */
const job = (user: string, extra: Partial<JobRequest> = {}): JobRequest => ({
  user,
  gpu: {kind: 'gpu', ref: 'any'},
  command: ['python', 'train.py'],
  env: [],
  ...extra,
});

const wholeGpu = (user: string): CreateRequest => ({
  user,
  gpu: {kind: 'gpu', ref: 'any'},
  password: false,
  env: [],
  wait: true,
  queue: true,
});

/** The job's container ends with this code, as its command would. */
function exits(world: World, containerId: string | null, code: number, output?: string[]): void {
  const container = world.docker.containers.get(containerId!)!;
  Object.assign(container, {running: false, exitCode: code});
  if (output) world.docker.output.set(container.id, output);
}

async function record(world: World, id: string) {
  return (await world.store.read()).jobs!.find((entry) => entry.id === id)!;
}

async function refusal(work: Promise<unknown>) {
  try {
    await work;
  } catch (error) {
    if (isSandmanError(error)) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('batch jobs', () => {
  it('wait in the sessions’ line in its order (fewest GPU-hours first), and a freed GPU goes to the head', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    for (let index = 0; index < 8; index++) await world.sessions.create(wholeGpu(`busy${index}`));
    world.gpuHoursUsed.set('heavy', {used: 30, oldestLeavesAt: null});
    world.gpuHoursUsed.set('light', {used: 2, oldestLeavesAt: null});
    const heavy = await world.sessions.jobs.submit(job('heavy'));
    world.clock.advance(1000);
    const light = await world.sessions.jobs.submit(job('light'));
    world.clock.advance(1000);
    const fresh = await world.sessions.createOrQueue(wholeGpu('fresh'));
    expect(isQueued(fresh)).toBe(true);
    expect([heavy.state, light.state]).toEqual(['queued', 'queued']);
    // One line: the session request (0 h), then light's job, then heavy's.
    const view = await world.sessions.jobs.show(light.job_id);
    expect([view.queue_position, view.waiting_for]).toEqual([2, 'a whole GPU']);

    await world.sessions.remove(['busy0']);
    expect((await world.store.read()).sessions.some((session) => session.user === 'fresh')).toBe(true);
    expect((await record(world, light.job_id)).state).toBe('queued');
    await world.sessions.remove(['busy1']);
    const started = await record(world, light.job_id);
    expect(started.state).toBe('running');
    expect((await record(world, heavy.job_id)).state).toBe('queued');
    // Its container: the job's command as its user, its device, no sshd port, a job label only.
    const container = world.docker.containers.get(started.container_id!)!;
    expect(container.spec.job?.command).toEqual(['python', 'train.py']);
    expect(container.spec.gpuUuid).toBe(started.gpu_uuid);
    expect(container.spec.hostPort).toBeUndefined();
    expect(container.spec.labels[LABELS.job]).toBe(light.job_id);
    expect(container.spec.labels[LABELS.session]).toBeUndefined();
    expect(container.spec.env).toContain(`SANDMAN_JOB_ID=${light.job_id}`);
    // No session is given the job's device.
    const held = (await world.store.read()).sessions.map((session) => session.gpu_uuid);
    expect(held).not.toContain(started.gpu_uuid);

    // Its exit, seen by any sandman process, frees the GPU and starts the next (heavy's job).
    exits(world, started.container_id, 3, ['step 1', 'loss 0.1']);
    const ended = await world.sessions.jobs.refresh(light.job_id);
    expect([ended.state, ended.exit_code]).toEqual(['exited', 3]);
    expect(jobExitStatus(ended)).toBe(3);
    expect(world.docker.containers.has(started.container_id!)).toBe(false);
    const next = await record(world, heavy.job_id);
    expect([next.state, next.gpu_uuid]).toEqual(['running', started.gpu_uuid]);
    // Its output stays in her home, written as her.
    const kept = world.jobLogs.get(`${started.workspace}/${light.job_id}`)!;
    expect(kept.uid).toBe(started.uid);
    expect(kept.output.toString()).toBe('step 1\nloss 0.1\n');
    expect((await world.sessions.jobs.logs(light.job_id, false)).read()?.toString()).toBe(
      'step 1\nloss 0.1\n',
    );
    expect(world.audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['job-submit', 'job-start', 'job-end']),
    );
  });

  it('userMaxJobs: a user’s second job waits without holding up another user’s, and starts when the first ends', async () => {
    const world = fakeWorld();
    const first = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}}));
    const second = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}}));
    const other = await world.sessions.jobs.submit(job('ben', {gpu: {kind: 'none'}}));
    expect([first.state, second.state, other.state]).toEqual(['running', 'queued', 'running']);
    // `session rm amy` is about sessions: her queued job keeps its place.
    expect((await world.sessions.remove(['amy'])).cancelled).toEqual([]);
    expect((await record(world, second.job_id)).state).toBe('queued');
    exits(world, (await record(world, first.job_id)).container_id, 0);
    await world.reaper.run({dryRun: false});
    expect((await record(world, first.job_id)).state).toBe('exited');
    expect((await record(world, second.job_id)).state).toBe('running');
  });

  it('userMaxJobs resolves user → group → setting', async () => {
    const world = fakeWorld({settings: {groups: {lab: {userMaxJobs: 2}}}});
    await world.users.add('amy', {group: 'lab'});
    await world.users.add('ben', {group: 'lab', limits: {userMaxJobs: 1}});
    const one = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}}));
    const two = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}}));
    const own = await world.sessions.jobs.submit(job('ben', {gpu: {kind: 'none'}}));
    const over = await world.sessions.jobs.submit(job('ben', {gpu: {kind: 'none'}}));
    expect([one.state, two.state, own.state, over.state]).toEqual([
      'running',
      'running',
      'running',
      'queued',
    ]);
    expect((await world.users.show('ben')).limits.max_jobs).toEqual({value: 1, source: 'user'});
  });

  it('past its TTL the reaper stops it (SIGTERM, grace, SIGKILL) and marks it timeout', async () => {
    const world = fakeWorld();
    const submitted = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}, ttl: '1h'}));
    world.clock.advance(30 * 60_000);
    await world.reaper.run({dryRun: false});
    expect((await record(world, submitted.job_id)).state).toBe('running');
    world.clock.advance(31 * 60_000);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toContainEqual(
      expect.objectContaining({action: 'stop-job', reason: 'timeout', session_id: submitted.job_id}),
    );
    const ended = await record(world, submitted.job_id);
    expect([ended.state, ended.exit_code, ended.reason]).toEqual(['timeout', 143, 'ran past its TTL']);
    expect(world.docker.calls).toContainEqual(expect.stringMatching(/^stopContainer /));
    expect(world.docker.containers.size).toBe(0);
  });

  it('cancel: a queued job leaves the line, a running one is stopped; an ended one is exit 4', async () => {
    const world = fakeWorld();
    const running = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}, name: 'train-1'}));
    const queued = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}}));
    const left = await world.sessions.jobs.cancel(queued.job_id);
    expect([left.state, left.reason]).toEqual(['cancelled', 'cancelled while queued']);
    expect((await world.store.read()).queue ?? []).toEqual([]);
    const stopped = await world.sessions.jobs.cancel('train-1');
    expect([stopped.job_id, stopped.state, stopped.exit_code]).toEqual([running.job_id, 'cancelled', 143]);
    expect(world.docker.containers.size).toBe(0);
    expect((await refusal(world.sessions.jobs.cancel(running.job_id))).exitCode).toBe(4);
  });

  it('refuses what it cannot run: a spent budget (exit 8, with the numbers), a TTL over the limits, Swarm mode, no command', async () => {
    const world = fakeWorld({
      smi: FakeNvidiaSmi.rtxPro6000x8(),
      settings: {gpuHourBudget: '10h/7d', jobMaxTtl: '2h', userMaxTtl: '1h'},
    });
    world.gpuHoursUsed.set('amy', {used: 12.5, oldestLeavesAt: null});
    const spent = await refusal(world.sessions.jobs.submit(job('amy')));
    expect(spent.exitCode).toBe(8);
    expect(spent.message).toMatch(/amy used 12\.5 of 10 GPU-hours in the last 7d/);
    expect((await refusal(world.sessions.jobs.submit(job('ben', {ttl: '3h'})))).exitCode).toBe(2);
    expect((await refusal(world.sessions.jobs.submit(job('ben', {ttl: '90m'})))).exitCode).toBe(8);
    expect((await refusal(world.sessions.jobs.submit(job('ben', {command: []})))).exitCode).toBe(2);
    expect((await world.store.read()).jobs ?? []).toEqual([]);

    const swarm = fakeWorld({cluster: new FakeCluster([])});
    const refused = await refusal(swarm.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}})));
    expect([refused.exitCode, refused.message]).toEqual([
      2,
      expect.stringMatching(/not available in Swarm mode/),
    ]);
  });

  it('a crash while starting (kill -9 after the container was made) leaves nothing after one reap', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8(), stopAt: 'container-created'});
    void world.sessions.jobs.submit(job('amy'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [stuck] = (await world.store.read()).jobs!;
    expect(stuck!.state).toBe('running');
    expect(world.docker.containers.size).toBe(1);
    expect((await world.gpuService.available()).devices).toHaveLength(7);
    // The submitting process is gone (its pid no longer alive).
    world.processes.alivePids.delete(world.processes.pid);
    await world.reaper.run({dryRun: false});
    const after = await record(world, stuck!.id);
    expect([after.state, after.reason]).toEqual(['failed', 'sandman stopped while starting it']);
    expect(world.docker.containers.size).toBe(0);
    // Its device is free again (gpu available lists all eight).
    expect((await world.gpuService.available()).devices).toHaveLength(8);
  });

  it('a job container no job owns is removed by the reaper; the sessions’ orphan sweep leaves running jobs alone', async () => {
    const world = fakeWorld();
    const running = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}}));
    await world.docker.createContainer({
      ...world.docker.containers.get((await record(world, running.job_id)).container_id!)!.spec,
      name: 'sandman-job-amy-000000000000',
      labels: {[LABELS.job]: '000000000000', [LABELS.instance]: world.stateDir.instance},
    });
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toContainEqual(
      expect.objectContaining({
        action: 'remove-container',
        reason: 'orphan',
        container: 'sandman-job-amy-000000000000',
      }),
    );
    expect((await record(world, running.job_id)).state).toBe('running');
    expect(world.docker.containers.size).toBe(1);
  });

  it('a user’s session and her job are counted apart (userMaxSessions, userMaxJobs), and the metrics count jobs by state', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    const running = await world.sessions.jobs.submit(job('amy'));
    // The job's device is held: the session gets another one.
    const session = await world.sessions.create({...wholeGpu('amy'), queue: false});
    const waiting = await world.sessions.jobs.submit(job('amy'));
    expect([running.state, waiting.state]).toEqual(['running', 'queued']);
    expect(running.gpu_uuid).not.toBe(session.gpu_uuid);
    // A second session is still refused by userMaxSessions, the jobs notwithstanding.
    expect((await refusal(world.sessions.create({...wholeGpu('amy'), queue: false}))).exitCode).toBe(4);
    const metrics = await renderMetrics(await world.store.read(), undefined);
    expect(metrics).toMatch(/^sandman_jobs\{state="running"\} 1$/m);
    expect(metrics).toMatch(/^sandman_jobs\{state="queued"\} 1$/m);
    expect(metrics).toMatch(/^sandman_jobs\{state="exited"\} 0$/m);
  });

  it('reap --dry-run says what it would do to jobs and does nothing', async () => {
    const world = fakeWorld();
    const submitted = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}, ttl: '1h'}));
    world.clock.advance(2 * 3_600_000);
    const report = await world.reaper.run({dryRun: true});
    expect(report.items).toContainEqual(
      expect.objectContaining({action: 'stop-job', result: 'would', session_id: submitted.job_id}),
    );
    expect((await record(world, submitted.job_id)).state).toBe('running');
    expect(world.docker.calls).not.toContainEqual(expect.stringMatching(/^stopContainer /));
  });

  it('dynamic MIG mode: a job makes its device, and destroys exactly that one when it ends', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100(), settings: {migMode: 'dynamic'}});
    const submitted = await world.sessions.jobs.submit(
      job('dora', {gpu: {kind: 'profile', profile: '3g.20gb'}}),
    );
    expect(world.smi.calls).toEqual(['mig -i 0 -cgi 3g.20gb -C']);
    const started = await record(world, submitted.job_id);
    expect(started).toMatchObject({state: 'running', mig_created: true, mig_gpu_instance: 101});
    expect(world.docker.containers.get(started.container_id!)!.spec.gpuUuid).toBe(started.gpu_uuid);
    exits(world, started.container_id, 0);
    await world.sessions.jobs.refresh(submitted.job_id);
    expect(world.smi.calls).toEqual(['mig -i 0 -cgi 3g.20gb -C', 'mig -i 0 -gi 101 -ci 0 -dci']);
    expect((await world.smi.list())[0]?.migDevices.map((device) => device.uuid)).not.toContain(
      started.gpu_uuid,
    );
  });

  it('ended jobs are forgotten after jobRetention', async () => {
    const world = fakeWorld({settings: {jobRetention: '1d'}});
    const done = await world.sessions.jobs.submit(job('amy', {gpu: {kind: 'none'}}));
    exits(world, (await record(world, done.job_id)).container_id, 0);
    await world.reaper.run({dryRun: false});
    expect(await world.sessions.jobs.list({all: true})).toHaveLength(1);
    expect(await world.sessions.jobs.list()).toHaveLength(0);
    world.clock.advance(25 * 3_600_000);
    await world.reaper.run({dryRun: false});
    expect(await world.sessions.jobs.list({all: true})).toHaveLength(0);
  });
});

describe('job logs', () => {
  it('keep the newest bytes up to the limit, saying how much older output was dropped', async () => {
    const chunks = Array.from({length: 100}, (_, index) =>
      Buffer.from(`line ${String(index).padStart(3, '0')}\n`),
    );
    const kept = (await newestBytes(Readable.from(chunks), 200)).toString();
    expect(kept.length).toBeLessThanOrEqual(200);
    const [note, ...lines] = kept.split('\n');
    expect(note).toBe('[sandman: older output dropped (jobLogLimit)]');
    // Whole lines only, the newest ones, without a gap.
    expect(lines.at(-1)).toBe('');
    const numbers = lines.slice(0, -1).map((line) => Number(/^line (\d{3})$/.exec(line)![1]));
    expect(numbers).toEqual(Array.from({length: numbers.length}, (_, index) => 100 - numbers.length + index));
    expect(kept.length).toBeGreaterThan(200 - 9 - note!.length - 1);
    expect((await newestBytes(Readable.from([Buffer.from('short\n')]), 200)).toString()).toBe('short\n');
  });
});

describe('usage of jobs', () => {
  it('counts a job’s run from its job-start to its job-end line, as a session’s: by kind, and in the user’s GPU-hours', () => {
    const line = (entry: Record<string, unknown>) => JSON.stringify({actor: 'root', result: 'ok', ...entry});
    const lines = [
      line({
        time: '2026-11-02T10:00:00Z',
        action: 'create',
        session: 's1',
        user: 'amy',
        gpu_uuid: 'GPU-a',
        mig_profile: null,
        gpu_fraction: 1,
        expires_at: '2026-11-02T12:00:00Z',
      }),
      line({time: '2026-11-02T11:00:00Z', action: 'job-submit', session: null, job: 'j1', user: 'amy'}),
      line({
        time: '2026-11-02T11:00:00Z',
        action: 'job-start',
        session: null,
        job: 'j1',
        user: 'amy',
        gpu_uuid: 'GPU-b',
        mig_profile: '3g.20gb',
        gpu_fraction: 0.5,
        expires_at: '2026-11-03T11:00:00Z',
      }),
      line({
        time: '2026-11-02T15:00:00Z',
        action: 'job-end',
        session: null,
        job: 'j1',
        user: 'amy',
        result: 'ok',
        state: 'exited',
        exit_code: 0,
      }),
    ];
    const {intervals} = intervalsFromAudit(lines);
    const period = {since: Date.parse('2026-11-01T00:00:00Z'), until: Date.parse('2026-11-04T00:00:00Z')};
    const byKind = summarise(intervals.values(), {...period, by: 'kind'});
    expect(byKind.rows.map((row) => [row.key, row.sessions, row.session_hours, row.gpu_hours])).toEqual([
      ['job', 1, 4, 2],
      ['session', 1, 2, 2],
    ]);
    expect(gpuHoursOf(intervals.values(), 'amy', period).used).toBe(4);
  });
});
