import {describe, expect, it} from 'vitest';

import {isoSeconds} from '../../src/core/clock.js';
import {LABELS} from '../../src/core/labels.js';
import {fakeWorld} from '../fakes/world.js';
import {sessionRecord} from '../helpers/state-file.js';

const plain = {gpu: {kind: 'none'} as const, password: false, env: [], wait: true};

describe('reap', () => {
  it('removes expired sessions, orphan containers and records whose container is gone', async () => {
    const world = fakeWorld();
    await world.sessions.create({...plain, user: 'alice', ttl: '1m'});
    await world.sessions.create({...plain, user: 'bob', ttl: '2h'});
    const carol = await world.sessions.create({...plain, user: 'carol', ttl: '2h'});
    world.docker.containers.delete(carol.container_id!);
    await world.docker.createContainer({
      name: 'sandman-eve-000000000000',
      labels: {[LABELS.instance]: world.stateDir.instance, [LABELS.session]: '000000000000'},
      files: [],
    } as never);
    world.clock.advance(5 * 60_000);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items.map((item) => [item.reason, item.user, item.result]).sort()).toEqual([
      ['dangling', 'carol', 'done'],
      ['expired', 'alice', 'done'],
      ['orphan', null, 'done'],
    ]);
    expect((await world.store.read()).sessions.map((session) => session.user)).toEqual(['bob']);
    expect([...world.docker.containers.values()].map((c) => c.spec.labels[LABELS.user])).toEqual(['bob']);
    expect(
      world.audit
        .filter((entry) => entry.action === 'reap')
        .map((entry) => entry.reason)
        .sort(),
    ).toEqual(['dangling', 'expired', 'orphan']);
    // The run's counters (metrics): sessions reaped, and when it ran.
    expect((await world.store.read()).counters).toMatchObject({
      sessions_reaped_total: 2,
      last_reap_at: isoSeconds(world.clock.now()),
    });
  });

  it('changes nothing on a dry run', async () => {
    const world = fakeWorld();
    await world.sessions.create({...plain, user: 'alice', ttl: '1m'});
    world.clock.advance(5 * 60_000);
    const before = world.store.snapshot;
    const report = await world.reaper.run({dryRun: true});
    expect(report.items).toEqual([expect.objectContaining({reason: 'expired', result: 'would'})]);
    expect(world.store.snapshot).toEqual(before);
    expect(world.docker.containers.size).toBe(1);
  });

  it('does nothing while another reap holds the reap lock', async () => {
    const world = fakeWorld();
    await world.sessions.create({...plain, user: 'alice', ttl: '1m'});
    world.clock.advance(5 * 60_000);
    const release = await world.locks.tryLock('reap');
    const report = await world.reaper.run({dryRun: false});
    expect(report.skipped).toBe('another sandman reap is running');
    expect(world.docker.containers.size).toBe(1);
    await release!();
    expect((await world.reaper.run({dryRun: false})).items).toHaveLength(1);
  });

  it('releases a reservation whose creator died at once, and keeps a live creator’s', async () => {
    const world = fakeWorld();
    await world.store.update((state) => {
      for (const [user, pid] of [
        ['alice', 1000],
        ['bob', 999_999],
      ] as const) {
        state.sessions.push(
          sessionRecord({
            id: `${user}00000000`.slice(0, 12),
            user,
            status: 'creating',
            ssh_port: user === 'alice' ? 10000 : 10001,
            created_at: world.clock.now().toISOString(),
            expires_at: '2099-01-01T00:00:00Z',
            creator_pid: pid,
          }),
        );
      }
    });
    const report = await world.reaper.run({dryRun: false});
    expect(report.items.map((item) => [item.reason, item.user])).toEqual([['stale', 'bob']]);
    expect((await world.store.read()).sessions.map((session) => session.user)).toEqual(['alice']);
  });

  it('does not take a container made after its list for a dangling record', async () => {
    const world = fakeWorld();
    await world.sessions.create({...plain, user: 'alice'});
    const original = world.docker.listContainers.bind(world.docker);
    // The list is taken while alice's container is briefly missing from it (as if made just after).
    world.docker.listContainers = async () => [];
    const report = await world.reaper.run({dryRun: false});
    world.docker.listContainers = original;
    expect(report.items).toEqual([expect.objectContaining({reason: 'dangling', result: 'skipped'})]);
    expect((await world.store.read()).sessions).toHaveLength(1);
  });

  it('reaps a session idle past idleTimeout and keeps one with an SSH connection', async () => {
    const world = fakeWorld({settings: {idleTimeout: '10m'}});
    await world.sessions.create({...plain, user: 'alice'});
    world.clock.advance(11 * 60_000);
    world.sshConnections.connections = 1;
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    world.clock.advance(11 * 60_000);
    world.sshConnections.connections = 0;
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([expect.objectContaining({reason: 'idle', user: 'alice', result: 'done'})]);
  });
});
