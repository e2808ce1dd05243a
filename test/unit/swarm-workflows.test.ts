import {describe, expect, it} from 'vitest';

import {isSandmanError} from '../../src/core/errors.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {FakeCluster, swarmNode} from '../fakes/fake-cluster.js';
import {fakeWorld, type World} from '../fakes/world.js';

/**
 * Swarm mode (docs/admin/swarm.md): create, stop and start on a cluster in memory, the session
 * workflows real, wired as cli/services.ts wires them for backend swarm.
 */
const lab = () =>
  new FakeCluster([
    swarmNode('lab1', ['NVIDIA-MIG-1g.5gb=MIG-a', 'NVIDIA-MIG-1g.5gb=MIG-b']),
    swarmNode('lab2', ['NVIDIA-MIG-1g.5gb=MIG-d']),
  ]);
const slice = (user: string, extra: Partial<CreateRequest> = {}): CreateRequest => ({
  user,
  gpu: {kind: 'profile', profile: '1g.5gb'},
  password: false,
  env: [],
  wait: true,
  ...extra,
});
const record = async (world: World, user: string) =>
  (await world.store.read()).sessions.find((session) => session.user === user)!;
async function failureOf(work: Promise<unknown>) {
  try {
    await work;
  } catch (error) {
    if (isSandmanError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

describe('swarm mode: session create', () => {
  it('places the session on the node with the most free devices, records the device Swarm gave it and makes nothing on this host', async () => {
    const world = fakeWorld({cluster: lab()});
    const created = await world.sessions.create(slice('alice'));
    const stored = await record(world, 'alice');
    expect(stored).toMatchObject({
      status: 'running',
      node: 'lab1',
      gpu_kind: 'NVIDIA-MIG-1g.5gb',
      ssh_host: '10.0.0.1',
      mig_profile: '1g.5gb',
      gpu_uuid: 'MIG-a',
      workspace: 'sandman-home-alice',
    });
    expect(created).toMatchObject({gpu_uuid: 'MIG-a', ssh_host: '10.0.0.1'});
    // The user's home is on that node from now on.
    expect((await world.store.read()).users.alice?.node).toBe('lab1');
    const spec = world.docker.containers.get(stored.container_id!)!.spec;
    expect(spec).toMatchObject({
      node: 'lab1',
      genericResource: 'NVIDIA-MIG-1g.5gb',
      mount: {source: 'sandman-home-alice', target: '/home/alice', volume: true},
    });
    // The host key goes into the service (no directory on this host to mount), with a certificate
    // naming the node.
    expect(spec.keyMount).toBeUndefined();
    expect(spec.filesMount).toBeUndefined();
    expect(spec.files.map((file) => file.path)).toEqual([
      '/etc/ssh/sandman/ssh_host_ed25519_key',
      '/etc/ssh/sandman/ssh_host_ed25519_key-cert.pub',
    ]);
    expect(await world.keys.hostKeyDir(stored.id)).toBeUndefined();
    expect([...world.workspaces.dirs.keys()]).toEqual([]);
    // Each node keeps its own network rules (`sandman node setup`): none applied from here.
    expect(world.firewall.applied).toBe(0);
    // The next users' sessions go where devices are still free, the fewest sessions first.
    await world.sessions.create(slice('bob'));
    await world.sessions.create(slice('carol'));
    expect((await record(world, 'bob')).node).toBe('lab2');
    expect((await record(world, 'carol')).node).toBe('lab1');
    expect((await record(world, 'carol')).gpu_uuid).toBe('MIG-b');
  });

  it('refuses what a cluster cannot do before anything is reserved', async () => {
    const world = fakeWorld({cluster: lab()});
    expect(await failureOf(world.sessions.create(slice('alice', {password: true})))).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--password is not available'),
    });
    const quota = fakeWorld({cluster: lab(), settings: {workspaceQuota: '10G'}});
    expect(await failureOf(quota.sessions.create(slice('alice')))).toMatchObject({
      exitCode: 6,
      message: expect.stringContaining("cannot be enforced on the nodes' volumes"),
    });
    const single = fakeWorld();
    expect(
      await failureOf(single.sessions.create({...slice('alice'), gpu: {kind: 'none'}, node: 'lab1'})),
    ).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--node works in swarm mode only'),
    });
    expect((await world.store.read()).sessions).toEqual([]);
  });

  it('a node with no free device of the kind is exit 5, whether sandman or Swarm finds it, and leaves nothing behind', async () => {
    const world = fakeWorld({cluster: lab()});
    await world.sessions.create(slice('alice', {node: 'lab2'}));
    // By sandman's own count, lab2's one device is alice's.
    const counted = await failureOf(world.sessions.create(slice('bob', {node: 'lab2'})));
    expect(counted).toMatchObject({
      exitCode: 5,
      message: expect.stringContaining('no free 1g.5gb device on node lab2'),
    });
    // A device sandman does not know is taken (another service holds it): Swarm's refusal, with
    // what is free on that node.
    const cluster = lab();
    cluster.tasksList.push({
      id: 'foreign',
      service: 'other',
      labels: {},
      nodeId: 'id-lab2',
      state: 'running',
      desiredState: 'running',
      devices: [{kind: 'NVIDIA-MIG-1g.5gb', value: 'MIG-d'}],
      createdAt: new Date(0).toISOString(),
    });
    const busy = fakeWorld({cluster});
    const refused = await failureOf(busy.sessions.create(slice('carol', {node: 'lab2'})));
    expect(refused).toMatchObject({
      exitCode: 5,
      message: expect.stringMatching(
        /^no free 1g\.5gb device on node lab2: .*insufficient resources.*; free now: /,
      ),
    });
    expect((await busy.store.read()).sessions).toEqual([]);
    expect(busy.docker.containers.size).toBe(0);
  });
});

describe('swarm mode: session stop and start', () => {
  it('stop scales the service to 0 and says what is lost; start records the device Swarm gives it then', async () => {
    const world = fakeWorld({cluster: lab()});
    await world.sessions.create(slice('alice', {node: 'lab2'}));
    const stopped = await world.sessions.stop('alice');
    expect(stopped).toMatchObject({
      status: 'stopped',
      note: 'swarm mode: the service is scaled to 0; the home volume stays, files outside it do not',
    });
    // Swarm took the device back: another service may have it now.
    world.cluster!.nodesList[1]!.resources = [{kind: 'NVIDIA-MIG-1g.5gb', value: 'MIG-e'}];
    const started = await world.sessions.start('alice');
    expect(started).toMatchObject({
      status: 'running',
      device: 'same',
      gpu_uuid: 'MIG-e',
      mig_profile: '1g.5gb',
    });
    const stored = await record(world, 'alice');
    expect(stored).toMatchObject({status: 'running', gpu_uuid: 'MIG-e', node: 'lab2', starter_pid: null});
    // Nothing is put into a container that may be on another node, nothing is committed.
    expect(world.docker.calls.filter((call) => /^(putFiles|commitContainer|exec)/.test(call))).toEqual([]);
    expect(world.docker.commits).toEqual([]);
  });
});
