import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {cpuSecondsFrom, parseComputeAppPids, parseProcCgroup} from '../../src/reap/activity.js';
import {fakeWorld} from '../fakes/world.js';
import {ROOT} from '../helpers/constants.js';

describe('reading activity', () => {
  it('finds the cgroup of a process, v1 and v2', () => {
    const v1 = parseProcCgroup(
      '12:cpu,cpuacct:/docker/e314c270d8f4\n9:name=systemd:/docker/e314c270d8f4\n0::/docker/e314c270d8f4\n',
    );
    expect(v1.v1.get('cpuacct')).toBe('/docker/e314c270d8f4');
    expect(v1.v1.get('cpu')).toBe('/docker/e314c270d8f4');
    expect(parseProcCgroup('0::/system.slice/docker-e314c270d8f4.scope\n').v2).toBe(
      '/system.slice/docker-e314c270d8f4.scope',
    );
    expect(cpuSecondsFrom('cpuacct.usage', '2500000000\n')).toBe(2.5);
    expect(cpuSecondsFrom('cpu.stat', 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n')).toBe(
      1.5,
    );
  });

  it('reads GPU compute PIDs from nvidia-smi --query-compute-apps, with or without a header (real capture)', () => {
    const capture = readFileSync(
      path.join(ROOT, 'test/fixtures/nvidia-smi/h100-80gb-mig_query-compute-apps_load.csv'),
      'utf8',
    );
    expect(parseComputeAppPids(capture)).toEqual([21180, 21181, 21198]);
    expect(parseComputeAppPids('4242, GPU-9e4aeb94-01c0-5173-4811-4ca60f77b3a9\n')).toEqual([4242]);
    expect(parseComputeAppPids('')).toEqual([]);
  });
});

describe('idle means idle', () => {
  async function threeSessions() {
    const world = fakeWorld({settings: {idleTimeout: '10m', idleCpuThreshold: 5}});
    const plain = {gpu: {kind: 'none'} as const, password: false, env: [], wait: true};
    const [busy, trainer, idle] = [
      await world.sessions.create({...plain, user: 'busy'}),
      await world.sessions.create({...plain, user: 'trainer'}),
      await world.sessions.create({...plain, user: 'idle'}),
    ];
    const pid = async (id: string | null) => (await world.docker.runningPid(id!))!;
    return {
      world,
      busy: await pid(busy.container_id),
      trainer,
      trainerPid: await pid(trainer.container_id),
      idle,
    };
  }

  it('keeps a session using CPU with nobody logged in, and one running a GPU process; reaps the idle one', async () => {
    const {world, busy, trainer} = await threeSessions();
    // The timer's first reap, a minute in, sets each container's CPU baseline.
    world.clock.advance(60_000);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    world.clock.advance(10 * 60_000);
    world.activity.cpu.set(busy, 540); // 540 s of CPU in 10 minutes: 90 % of a CPU
    world.smi.computePids = [777];
    world.activity.gpuProcessContainer.set(777, trainer.container_id!);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items.map((item) => [item.reason, item.user])).toEqual([['idle', 'idle']]);
    const records = (await world.store.read()).sessions;
    expect(
      records
        .filter((record) => record.status === 'running')
        .map((record) => [record.user, record.last_active_reason]),
    ).toEqual([
      ['busy', 'cpu'],
      ['trainer', 'gpu'],
    ]);
    // idleAction stop (the default): the idle one is stopped, not removed.
    expect(records.find((record) => record.user === 'idle')?.status).toBe('stopped');
  });

  it('judges CPU by use since the previous reap: a job that stopped stops counting', async () => {
    const {world, busy} = await threeSessions();
    world.clock.advance(5 * 60_000);
    world.activity.cpu.set(busy, 290);
    await world.reaper.run({dryRun: false});
    // No more CPU from here on: 20 minutes later the total is unchanged.
    world.clock.advance(20 * 60_000);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items.map((item) => item.user).sort()).toEqual(['busy', 'idle', 'trainer']);
  });

  /** alice's session and its container's main process. */
  async function oneSession() {
    const world = fakeWorld({settings: {idleTimeout: '10m', idleCpuThreshold: 5}});
    const made = await world.sessions.create({
      user: 'alice',
      gpu: {kind: 'none'},
      password: false,
      env: [],
      wait: true,
    });
    return {world, pid: (await world.docker.runningPid(made.container_id!))!};
  }

  it("never counts a container's start-up as activity, nor calls a session idle at the first look", async () => {
    const {world, pid} = await oneSession();
    // The entrypoint and sshd used 0.3 s of CPU: 10 % of the 3 s since creation.
    world.activity.cpu.set(pid, 0.3);
    world.clock.advance(3_000);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    const sampled = (await world.store.read()).sessions[0]!;
    expect(sampled).toMatchObject({cpu_seconds: 0.3, cpu_pid: pid});
    expect(sampled.last_active_at).toBeUndefined();
    world.clock.advance(11 * 60_000);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([
      expect.objectContaining({reason: 'idle', user: 'alice'}),
    ]);
  });

  it('counts the CPU of a container started again from its own start', async () => {
    const {world, pid: first} = await oneSession();
    world.activity.cpu.set(first, 600);
    world.clock.advance(60_000);
    await world.reaper.run({dryRun: false});
    // Started again (a host reboot, the engine's restart policy): a new main process, its CPU from 0.
    const again = first + 1;
    world.docker.runningPid = async () => again;
    world.activity.cpu.set(again, 0.3);
    world.clock.advance(11 * 60_000);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    // A job running since: 60 s of CPU in the minute, though its total is far below the last run's.
    world.activity.cpu.set(again, 60.3);
    world.clock.advance(60_000);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    expect((await world.store.read()).sessions[0]).toMatchObject({last_active_reason: 'cpu', cpu_pid: again});
  });

  it('counts an open SSH connection as activity', async () => {
    const world = fakeWorld({settings: {idleTimeout: '10m'}});
    await world.sessions.create({user: 'alice', gpu: {kind: 'none'}, password: false, env: [], wait: true});
    world.clock.advance(11 * 60_000);
    world.sshConnections.connections = 1;
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    expect((await world.store.read()).sessions[0]).toMatchObject({last_active_reason: 'ssh'});
  });
});
