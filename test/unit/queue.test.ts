import {describe, expect, it} from 'vitest';

import {SessionQueries} from '../../src/session/session-queries.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {isQueued, ordinal, type QueuedView} from '../../src/session/session-queue.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** The queue (docs/admin/users-and-limits.md "Users and limits") on the replayed 8-GPU host, every outside system faked. */
const wholeGpu = (user: string, extra: Partial<CreateRequest> = {}): CreateRequest => ({
  user,
  gpu: {kind: 'gpu', ref: 'any'},
  password: false,
  env: [],
  wait: true,
  queue: true,
  ...extra,
});

async function fill(world: World, count: number): Promise<string[]> {
  const users = Array.from({length: count}, (_, index) => `busy${index}`);
  for (const user of users) await world.sessions.create(wholeGpu(user));
  return users;
}

async function queue(world: World, user: string): Promise<QueuedView> {
  const result = await world.sessions.createOrQueue(wholeGpu(user));
  if (!isQueued(result)) throw new Error(`${user} was not queued`);
  return result;
}

describe('the queue', () => {
  it('puts a create in line when nothing is free; rm starts the user with the fewest GPU-hours, ties first come', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    await fill(world, 8);
    world.gpuHoursUsed.set('heavy', {used: 30, oldestLeavesAt: null});
    world.gpuHoursUsed.set('light', {used: 2, oldestLeavesAt: null});
    const heavy = await queue(world, 'heavy');
    world.clock.advance(1000);
    const light = await queue(world, 'light');
    world.clock.advance(1000);
    const fresh = await queue(world, 'fresh');
    world.clock.advance(1000);
    const fresh2 = await queue(world, 'fresh2');
    // Each place as it was when queued: light went ahead of heavy, fresh ahead of both.
    expect([heavy, light, fresh, fresh2].map((view) => view.queue_position)).toEqual([1, 1, 1, 2]);
    const line = await new SessionQueries(world.store, world.clock).queued();
    expect(line.map((view) => [view.ssh_user, view.queue_position])).toEqual([
      ['fresh', 1],
      ['fresh2', 2],
      ['light', 3],
      ['heavy', 4],
    ]);
    expect((await world.store.read()).sessions).toHaveLength(8);

    const {removed} = await world.sessions.remove(['busy0', 'busy1']);
    expect(removed).toHaveLength(2);
    const state = await world.store.read();
    const running = state.sessions.map((session) => session.user);
    expect(running).toContain('fresh');
    expect(running).toContain('fresh2');
    expect(state.queue!.map((entry) => entry.user)).toEqual(['heavy', 'light']);
    // The queued request's ID is the session's.
    expect(state.sessions.find((session) => session.user === 'fresh')!.id).toBe(fresh.session_id);
    // No device twice.
    const devices = state.sessions.map((session) => session.gpu_uuid);
    expect(new Set(devices).size).toBe(devices.length);
    expect(world.audit.filter((entry) => entry.action === 'create' && entry.result === 'failed')).toEqual([]);
  });

  it('one request per user; rm cancels it; the reaper ends one past queueTimeout with an audit line', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8(), settings: {queueTimeout: '1h'}});
    await fill(world, 8);
    const first = await queue(world, 'ann');
    await expect(world.sessions.createOrQueue(wholeGpu('ann'))).rejects.toMatchObject({exitCode: 4});
    const cancelled = await world.sessions.remove(['ann']);
    expect(cancelled.cancelled).toEqual([first.session_id]);
    expect((await world.store.read()).queue).toEqual([]);

    await queue(world, 'ben');
    world.clock.advance(61 * 60_000);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toContainEqual(
      expect.objectContaining({action: 'end-queued', reason: 'queue-timeout', user: 'ben', result: 'done'}),
    );
    expect((await world.store.read()).queue).toEqual([]);
    expect(world.audit).toContainEqual(
      expect.objectContaining({action: 'queue', user: 'ben', result: 'failed', reason: 'queue-timeout'}),
    );
  });

  it('the reaper starts what a rm elsewhere freed; two drains at once start a request once', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    await fill(world, 8);
    await queue(world, 'cara');
    await queue(world, 'dave');
    // Freed behind the queue's back (as a container removed by hand and a reap would).
    const state = await world.store.read();
    await world.sessions.teardown(state.sessions[0]!);
    const [a, b] = await Promise.all([world.sessions.queue.drain(), world.sessions.queue.drain()]);
    expect([...a, ...b]).toHaveLength(1);
    const after = await world.store.read();
    expect(after.sessions).toHaveLength(8);
    expect(after.queue!.map((entry) => entry.user)).toEqual(['dave']);
    const devices = after.sessions.map((session) => session.gpu_uuid);
    expect(new Set(devices).size).toBe(8);
  });

  it('a password cannot wait in line (it is shown once); places read as ordinals', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    await fill(world, 8);
    await expect(world.sessions.createOrQueue(wholeGpu('eve', {password: true}))).rejects.toMatchObject({
      exitCode: 2,
    });
    expect(ordinal(1)).toBe('1st');
    expect([2, 3, 4, 11, 12, 13, 21, 22, 101].map(ordinal)).toEqual([
      '2nd',
      '3rd',
      '4th',
      '11th',
      '12th',
      '13th',
      '21st',
      '22nd',
      '101st',
    ]);
  });

  it('session show finds a queued request by ID or user when no session matches', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    await fill(world, 8);
    const waiting = await queue(world, 'dave');
    const queries = new SessionQueries(world.store, world.clock);
    for (const reference of [waiting.session_id, 'dave'])
      expect(await queries.showOrQueued(reference)).toEqual(waiting);
    expect(await queries.showOrQueued('busy0')).toMatchObject({ssh_user: 'busy0', status: 'running'});
    await expect(queries.showOrQueued('nobody')).rejects.toMatchObject({exitCode: 3});
  });
});
