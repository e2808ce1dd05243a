import {describe, expect, it} from 'vitest';

import {LABELS} from '../../src/core/labels.js';
import {SwarmRuntime} from '../../src/runtime/swarm/swarm-runtime.js';
import type {NodeSetupRequest, NodeSetupResult} from '../../src/swarm/node-setup.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {FakeCluster, swarmNode} from '../fakes/fake-cluster.js';
import {fakeWorld} from '../fakes/world.js';

/**
 * What the commands that only look (gpu, known-hosts, doctor, image build, node setup) get from
 * the runtime the wiring picked: the cluster's views in Swarm mode, this host's otherwise.
 */
const lab = () =>
  new FakeCluster([
    swarmNode('lab1', ['NVIDIA-MIG-1g.5gb=MIG-a', 'NVIDIA-MIG-1g.5gb=MIG-b']),
    swarmNode('lab2', ['NVIDIA-MIG-1g.5gb=MIG-d', 'NVIDIA-GPU=GPU-e']),
  ]);
const slice = (user: string): CreateRequest => ({
  user,
  gpu: {kind: 'profile', profile: '1g.5gb'},
  password: false,
  env: [],
  wait: true,
});

describe('swarm mode: GPU views', () => {
  it('lists every node and its devices, the one a session holds with its session and user', async () => {
    const world = fakeWorld({cluster: lab()});
    await world.sessions.create(slice('alice'));
    const created = (await world.store.read()).sessions[0]!;
    const views = await world.runtime.clusterGpus!();
    const nodes = await views.list();
    expect(nodes.map((node) => [node.node, node.address, node.state, node.availability])).toEqual([
      ['lab1', '10.0.0.1', 'ready', 'active'],
      ['lab2', '10.0.0.2', 'ready', 'active'],
    ]);
    expect(nodes[0]!.devices).toEqual([
      {
        node: 'lab1',
        kind: 'NVIDIA-MIG-1g.5gb',
        profile: '1g.5gb',
        uuid: 'MIG-a',
        session_id: created.id,
        session_user: 'alice',
      },
      {
        node: 'lab1',
        kind: 'NVIDIA-MIG-1g.5gb',
        profile: '1g.5gb',
        uuid: 'MIG-b',
        session_id: null,
        session_user: null,
      },
    ]);
    // A whole GPU shows as profile "gpu".
    expect(nodes[1]!.devices.map((device) => [device.uuid, device.profile])).toEqual([
      ['MIG-d', '1g.5gb'],
      ['GPU-e', 'gpu'],
    ]);
  });

  it('counts free devices per node and profile, and offers only free devices on ready, active nodes', async () => {
    const cluster = lab();
    cluster.nodesList.push(swarmNode('lab3', ['NVIDIA-MIG-1g.5gb=MIG-x'], {availability: 'drain'}));
    const world = fakeWorld({cluster});
    await world.sessions.create(slice('alice'));
    const views = await world.runtime.clusterGpus!();
    expect(await views.profiles()).toEqual([
      {node: 'lab1', profile: '1g.5gb', devices_free: 1, devices_total: 2},
      {node: 'lab2', profile: '1g.5gb', devices_free: 1, devices_total: 1},
      {node: 'lab2', profile: 'gpu', devices_free: 1, devices_total: 1},
      {node: 'lab3', profile: '1g.5gb', devices_free: 0, devices_total: 1},
    ]);
    const available = await views.available();
    expect(available.mode).toBe('swarm');
    expect(available.devices.map((device) => device.uuid)).toEqual(['MIG-b', 'MIG-d', 'GPU-e']);
  });

  it('refuses on an engine that does not manage the swarm (exit 6)', async () => {
    const cluster = lab();
    cluster.manager = false;
    const views = await fakeWorld({cluster}).runtime.clusterGpus!();
    await expect(views.list()).rejects.toMatchObject({exitCode: 6});
  });

  it("is the cluster's only: one host has none (the gpu commands read nvidia-smi there)", () => {
    expect(fakeWorld().runtime.clusterGpus).toBeUndefined();
  });
});

describe("swarm mode: doctor's runtime checks", () => {
  it('passes a healthy cluster: manager, nodes, advertised devices, image, tasks', async () => {
    const checks = await fakeWorld({cluster: lab()}).runtime.doctorChecks!();
    expect(checks.map((check) => [check.name, check.status])).toEqual([
      ['swarm manager', 'ok'],
      ['swarm nodes', 'ok'],
      ['advertised GPUs', 'ok'],
      ['image on nodes', 'ok'],
      ['session tasks', 'ok'],
    ]);
    expect(checks[2]!.detail).toBe('lab1: 2, lab2: 2');
  });

  it('stops at the manager check on a worker, with the fix', async () => {
    const cluster = lab();
    cluster.manager = false;
    const checks = await fakeWorld({cluster}).runtime.doctorChecks!();
    expect(checks).toEqual([
      {
        name: 'swarm manager',
        status: 'fail',
        detail: 'not a swarm manager (fake)',
        hint: 'run sandman on a manager node (docker swarm init, or docker node promote)',
      },
    ]);
  });

  it("warns of a node that is down and of a session's task Swarm could not run", async () => {
    const cluster = lab();
    cluster.nodesList[1] = {...cluster.nodesList[1]!, state: 'down'};
    const world = fakeWorld({cluster});
    await world.sessions.create(slice('alice'));
    const created = (await world.store.read()).sessions[0]!;
    const task = cluster.tasksList.find((candidate) => candidate.labels[LABELS.session] === created.id)!;
    Object.assign(task, {state: 'rejected', error: 'no such image'});
    const checks = await world.runtime.doctorChecks!();
    expect(checks.find((check) => check.name === 'swarm nodes')).toMatchObject({
      status: 'warn',
      detail: '1 of 2 ready and active; lab2 down/active',
    });
    expect(checks.find((check) => check.name === 'session tasks')).toMatchObject({
      status: 'warn',
      detail: `${task.service}: rejected (no such image)`,
    });
  });

  it('adds none on one host', () => {
    expect(fakeWorld().runtime.doctorChecks).toBeUndefined();
  });
});

describe('host names, image distribution, node setup', () => {
  it("names every node's address and name in swarm mode, this host's name otherwise", async () => {
    expect(await fakeWorld({cluster: lab()}).runtime.hostNames()).toEqual([
      '10.0.0.1',
      'lab1',
      '10.0.0.2',
      'lab2',
    ]);
    expect(await fakeWorld().runtime.hostNames()).toEqual(['gpu01.example.org']);
    expect(await fakeWorld({settings: {sshHost: 'gpu.example.org'}}).runtime.hostNames()).toEqual([
      'gpu.example.org',
    ]);
  });

  it('says how the image reaches the nodes in swarm mode only', () => {
    const distribution = fakeWorld({cluster: lab()}).runtime.imageDistribution!('lab/workspace:1');
    expect(distribution.distribute).toContain('docker save lab/workspace:1 | ssh NODE docker load');
    expect(distribution.note).toBe(`Swarm mode: ${distribution.distribute}`);
    expect(fakeWorld().runtime.imageDistribution).toBeUndefined();
  });

  it('offers node setup in swarm mode, as the wiring sets it up on this node; one host has none', async () => {
    const world = fakeWorld({cluster: lab()});
    const asked: NodeSetupRequest[] = [];
    const result: NodeSetupResult = {
      steps: [],
      resources: [],
      daemon_json: {},
      swarm_resource: null,
      restart_dockerd: false,
    };
    const runtime = new SwarmRuntime({
      config: world.config,
      docker: world.docker,
      cluster: world.cluster!,
      instance: world.stateDir.instance,
      store: async () => world.store,
      setUpNode: async (request) => {
        asked.push(request);
        return result;
      },
    });
    const request: NodeSetupRequest = {
      apply: true,
      firewallOnly: false,
      daemonJson: '/etc/docker/daemon.json',
      runtimeConfig: '/etc/nvidia-container-runtime/config.toml',
      command: ['sandman'],
      environment: {},
    };
    expect(await runtime.nodeSetup!(request)).toBe(result);
    expect(asked).toEqual([request]);
    expect(fakeWorld().runtime.nodeSetup).toBeUndefined();
  });
});
