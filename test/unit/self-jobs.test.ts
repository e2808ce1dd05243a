import {describe, expect, it} from 'vitest';

import {parseSelfArgs} from '../../src/self/self-commands.js';
import {SelfService} from '../../src/self/self-service.js';
import {SessionQueries} from '../../src/session/session-queries.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** Batch jobs from inside a session (docs/admin/sessions.md "The in-session command") and the notices jobs send (docs/admin/notifications-and-idleness.md "Notifications"). */
const plain = {gpu: {kind: 'none'} as const, password: false, env: [], wait: true};
const ALICE_HOOK = 'https://hooks.example.org/alice';

function selfService(world: World) {
  return new SelfService({
    config: world.config,
    store: world.store,
    clock: world.clock,
    sessions: async () => world.sessions,
    queued: (user) => new SessionQueries(world.store, world.clock).queued({user}),
    loginLink: async () => ({url: 'https://console.example.org/once', expires_at: '2026-01-01T00:10:00Z'}),
    audit: {record: async (entry) => void world.audit.push(entry)},
    jobs: async () => world.sessions.jobs,
  });
}

/** Alice with a session and a webhook; bob with a running job. */
async function jobsWorld(settings: Record<string, unknown> = {}) {
  const world = fakeWorld({settings: {notifyWebhook: 'https://hooks.example.org/admin', ...settings}});
  await world.users.add('alice', {});
  await world.users.add('bob', {});
  await world.users.set('alice', {webhook: ALICE_HOOK});
  const session = await world.sessions.create({...plain, user: 'alice', ttl: '2h'});
  const bobs = await world.sessions.jobs.submit({
    user: 'bob',
    gpu: {kind: 'none'},
    command: ['sleep', '1d'],
    env: [],
    name: 'sweep',
  });
  return {world, session: session.session_id, bobs: bobs.job_id, self: selfService(world)};
}

const job = async (world: World, id: string) =>
  (await world.store.read()).jobs!.find((entry) => entry.id === id)!;

/** The job's container ends with this code and output, as its command would. */
function exits(world: World, containerId: string | null, code: number, output: string[] = []): void {
  const container = world.docker.containers.get(containerId!)!;
  Object.assign(container, {running: false, exitCode: code});
  world.docker.output.set(container.id, output);
}

const posts = (world: World, event: string) =>
  world.webhooks.posts.filter((post) => post.url === ALICE_HOOK && post.body.event === event);

describe('sandman job inside a session', () => {
  it('parses submit with its flags; the command after -- is hers, --json in it included', () => {
    expect(
      parseSelfArgs(
        [
          'job',
          'submit',
          '--profile',
          '3g.20gb',
          '--ttl=2h',
          '--env',
          'A=1',
          '--wait',
          '--',
          'python',
          't.py',
          '--json',
        ],
        0,
      ),
    ).toEqual({
      json: false,
      command: {
        name: 'job',
        action: 'submit',
        gpu: {kind: 'profile', profile: '3g.20gb'},
        ttl: '2h',
        env: ['A=1'],
        wait: true,
        command: ['python', 't.py', '--json'],
      },
    });
    expect(parseSelfArgs(['job', 'ls', '--all', '--json'], 0)).toEqual({
      json: true,
      command: {name: 'job', action: 'ls', all: true},
    });
    for (const bad of [
      ['job', 'submit', 'python'],
      ['job', 'submit', '--gpu', 'any', '--no-gpu', '--', 'true'],
      ['job', 'submit', '--user', 'bob', '--', 'true'],
      ['job', 'show'],
      ['job', 'rm', 'x'],
    ])
      expect(() => parseSelfArgs(bad, 0)).toThrow(expect.objectContaining({exitCode: 2}));
  });

  it('submits as the session’s user with her limits; ls lists hers only; --wait prints the output and exits with its code', async () => {
    const {world, session, bobs, self} = await jobsWorld();
    const submitted = await self.run(session, [
      'job',
      'submit',
      '--no-gpu',
      '--name',
      'hi',
      '--',
      'sh',
      '-c',
      'echo hi',
    ]);
    expect(submitted.exitCode).toBe(0);
    const id = submitted.stdout.trim();
    expect(await job(world, id)).toMatchObject({user: 'alice', name: 'hi', state: 'running'});
    expect(world.audit).toContainEqual(
      expect.objectContaining({action: 'job-submit', job: id, user: 'alice'}),
    );

    const listed = await self.run(session, ['job', 'ls', '--json']);
    expect(JSON.parse(listed.stdout).map((view: {job_id: string}) => view.job_id)).toEqual([id]);
    expect(listed.stdout).not.toContain(bobs);

    exits(world, (await job(world, id)).container_id, 0, ['hi']);
    const waiting = self.run(session, [
      'job',
      'submit',
      '--no-gpu',
      '--wait',
      '--',
      'sh',
      '-c',
      'echo hi; exit 3',
    ]);
    // Her first job still runs until collected: userMaxJobs 1, so the second waits, then runs.
    for (let tries = 0; tries < 50; tries++) {
      const second = (await world.store.read()).jobs!.find(
        (entry) => entry.user === 'alice' && entry.id !== id,
      );
      if (second?.container_id) {
        exits(world, second.container_id, 3, ['hi']);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const waited = await waiting;
    expect([waited.exitCode, waited.stdout]).toEqual([3, 'hi\n']);
    expect((await self.run(session, ['job', 'show', 'hi'])).stdout).toMatch(/State:\s+exited/);
    expect((await self.run(session, ['job', 'logs', id])).stdout).toBe('hi\n');
  });

  it('another user’s job is "no job of yours" (exit 3) whatever she asks, and nothing changes', async () => {
    const {world, session, bobs, self} = await jobsWorld();
    const before = JSON.stringify((await world.store.read()).jobs);
    for (const argv of [
      ['job', 'show', bobs],
      ['job', 'logs', bobs],
      ['job', 'cancel', bobs],
      ['job', 'cancel', 'sweep'],
      ['job', 'cancel', bobs.slice(0, 6)],
      ['job', 'show', 'ffffffffffff'],
    ]) {
      const answer = await self.run(session, argv);
      expect(answer.exitCode).toBe(3);
      expect(answer.stderr).toMatch(/no job of yours is/);
    }
    expect(JSON.stringify((await world.store.read()).jobs)).toBe(before);
    expect(world.docker.calls.filter((call) => call.startsWith('stopContainer'))).toEqual([]);
  });
});

describe('job notices', () => {
  it('finished (with its exit code): recorded once by job ID, delivered once over several reaps', async () => {
    const {world, session, self} = await jobsWorld();
    const id = (await self.run(session, ['job', 'submit', '--no-gpu', '--', 'make'])).stdout.trim();
    exits(world, (await job(world, id)).container_id, 3);
    for (let reap = 0; reap < 4; reap++) {
      await world.reaper.run({dryRun: false});
      world.clock.advance(60_000);
    }
    await world.sessions.jobs.refresh(id);
    const finished = posts(world, 'job-finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]!.body).toMatchObject({user: 'alice', job: id, session, data: {exit_code: 3}});
    expect(finished[0]!.body.text).toMatch(
      new RegExp(`^sandman: Job ${id} \\(alice: make\\) finished with exit code 3`),
    );
    expect(
      world.webhooks.posts.filter((post) => post.url.endsWith('/admin') && post.body.job === id),
    ).toHaveLength(1);
    // It started at once (she had just submitted it): no "started" notice, and never a session's "queue-started".
    expect(posts(world, 'job-started')).toEqual([]);
    expect(world.webhooks.posts.filter((post) => post.body.event === 'queue-started')).toEqual([]);
    // Her session's terminals heard it too.
    expect(
      (await world.store.read()).notices!.find((notice) => notice.job === id)!.deliveries,
    ).toHaveProperty('terminal');
  });

  it('timed out, failed (left the line), started after waiting; a cancel tells nothing', async () => {
    const {world, session, self} = await jobsWorld();
    const slow = (
      await self.run(session, ['job', 'submit', '--no-gpu', '--ttl', '1h', '--', 'train'])
    ).stdout.trim();
    const next = (await self.run(session, ['job', 'submit', '--no-gpu', '--', 'eval'])).stdout.split(
      '\n',
    )[0]!;
    expect((await job(world, next)).state).toBe('queued');
    world.clock.advance(61 * 60_000);
    await world.reaper.run({dryRun: false});
    expect((await job(world, slow)).state).toBe('timeout');
    expect(posts(world, 'job-timeout').map((post) => post.body.job)).toEqual([slow]);
    // The waiting one started when the GPU-less slot was free: it waited over a minute, so she hears it.
    expect((await job(world, next)).state).toBe('running');
    expect(posts(world, 'job-started').map((post) => post.body.job)).toEqual([next]);

    const cancelled = (await self.run(session, ['job', 'submit', '--no-gpu', '--', 'x'])).stdout.split(
      '\n',
    )[0]!;
    await self.run(session, ['job', 'cancel', cancelled]);
    expect(world.webhooks.posts.filter((post) => post.body.job === cancelled)).toEqual([]);

    await world.store.update((state) => {
      state.queue = [];
      const waiting = state.jobs!.find((entry) => entry.id === next)!;
      waiting.state = 'queued';
    });
    await world.reaper.run({dryRun: false});
    expect(posts(world, 'job-failed').map((post) => [post.body.job, post.body.data])).toEqual([
      [next, expect.objectContaining({reason: 'left the queue unstarted (queueTimeout)'})],
    ]);
  });
});
