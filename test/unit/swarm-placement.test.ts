import {describe, expect, it} from 'vitest';

import {loadConfig} from '../../src/config/config.js';
import type {SandmanError} from '../../src/core/errors.js';
import {chooseNode, describeResources, planPlacement} from '../../src/swarm/swarm-placement.js';
import {FakeCluster, swarmNode} from '../fakes/fake-cluster.js';

const config = loadConfig({env: {SANDMAN_BACKEND: 'swarm'}, readFile: () => '{}'});
const lab = () =>
  new FakeCluster([
    swarmNode('lab1', ['NVIDIA-MIG-1g.5gb=MIG-a', 'NVIDIA-MIG-1g.5gb=MIG-b', 'NVIDIA-MIG-4g.20gb=MIG-c']),
    swarmNode('lab2', ['NVIDIA-MIG-1g.5gb=MIG-d']),
    swarmNode('lab3', ['NVIDIA-GPU=GPU-e', 'NVIDIA-GPU=GPU-f']),
  ]);
const failure = async (work: Promise<unknown>) => {
  try {
    await work;
  } catch (error) {
    return error as SandmanError;
  }
  throw new Error('expected a failure');
};

describe('swarm placement', () => {
  it('refuses what Swarm cannot schedule, before anything is reserved (exit 2)', async () => {
    const dynamic = {...config, migMode: 'dynamic' as const};
    const cases = [
      planPlacement({cluster: lab(), config: dynamic, user: 'ann', gpu: {kind: 'none'}}),
      planPlacement({cluster: lab(), config, user: 'ann', gpu: {kind: 'gpu', ref: '0'}}),
      planPlacement({cluster: lab(), config, user: 'ann', gpu: {kind: 'mig-instance', uuid: 'MIG-a'}}),
    ];
    for (const work of cases) expect((await failure(work)).exitCode).toBe(2);
  });

  it('keeps a user on the node with their home: another --node is a conflict, a drained one exit 6', async () => {
    const cluster = lab();
    const moved = await failure(
      planPlacement({cluster, config, user: 'ann', pinned: 'lab1', requested: 'lab2', gpu: {kind: 'none'}}),
    );
    expect(moved.exitCode).toBe(4);
    cluster.nodesList[0]!.availability = 'drain';
    const drained = await failure(
      planPlacement({cluster, config, user: 'ann', pinned: 'lab1', gpu: {kind: 'none'}}),
    );
    expect(drained.exitCode).toBe(6);
    expect(drained.message).toBe(
      "node lab1 is drained: ann's home is there, so the session cannot start now (nothing was moved elsewhere)",
    );
    cluster.nodesList[0]!.state = 'down';
    expect(
      (await failure(planPlacement({cluster, config, user: 'ann', pinned: 'lab1', gpu: {kind: 'none'}})))
        .message,
    ).toMatch(/^node lab1 is down:/);
    const unknown = await failure(
      planPlacement({cluster, config, user: 'bob', requested: 'lab9', gpu: {kind: 'none'}}),
    );
    expect(unknown.exitCode).toBe(3);
  });

  it('asks for the profile as a generic resource kind, and only of nodes offering it', async () => {
    const placement = await planPlacement({
      cluster: lab(),
      config,
      user: 'ann',
      gpu: {kind: 'profile', profile: '1g.5gb'},
    });
    expect(placement.kind).toBe('NVIDIA-MIG-1g.5gb');
    expect(placement.candidates.map((node) => node.name)).toEqual(['lab1', 'lab2']);
    expect(placement.principals).toEqual(['10.0.0.1', 'lab1', '10.0.0.2', 'lab2', '10.0.0.3', 'lab3']);
    const none = await failure(
      planPlacement({cluster: lab(), config, user: 'ann', gpu: {kind: 'profile', profile: '7g.80gb'}}),
    );
    expect(none.exitCode).toBe(5);
    expect(none.message).toContain('advertised: lab1: 1g.5gb ×2, 4g.20gb; lab2: 1g.5gb; lab3: gpu ×2');
  });

  it('--gpu any asks for a whole GPU of a node advertising NVIDIA-GPU; another --gpu is exit 2', async () => {
    const placement = await planPlacement({
      cluster: lab(),
      config,
      user: 'ann',
      gpu: {kind: 'gpu', ref: 'any'},
    });
    expect(placement).toMatchObject({kind: 'NVIDIA-GPU', profile: null});
    expect(placement.candidates.map((node) => node.name)).toEqual(['lab3']);
    const sessions: Array<{node: string; gpu_kind: string | null}> = [];
    for (const user of ['a', 'b'])
      sessions.push({node: chooseNode(placement, sessions, user).name, gpu_kind: 'NVIDIA-GPU'});
    expect(sessions.map((session) => session.node)).toEqual(['lab3', 'lab3']);
    const full = await failure(Promise.resolve().then(() => chooseNode(placement, sessions, 'c')));
    expect(full.message).toBe('no free whole GPU; free now: lab1: 1g.5gb ×2, 4g.20gb; lab2: 1g.5gb');
    const pinned = await failure(
      planPlacement({cluster: lab(), config, user: 'ann', pinned: 'lab1', gpu: {kind: 'gpu', ref: 'any'}}),
    );
    expect(pinned.message).toBe(
      "no whole GPU on node lab1 (ann's home); advertised: lab1: 1g.5gb ×2, 4g.20gb",
    );
  });

  it('without GPUs anywhere the default profile means no GPU, said in a note', async () => {
    const placement = await planPlacement({
      cluster: new FakeCluster([swarmNode('cpu1')]),
      config,
      user: 'ann',
      gpu: {kind: 'default'},
    });
    expect(placement.kind).toBeUndefined();
    expect(placement.profile).toBeNull();
    expect(placement.note).toBe('no node advertises GPUs: the session has none');
  });

  it('shares a node out under the lock: most free devices first, reservations counted, none left is exit 5 naming what is free', async () => {
    const placement = await planPlacement({
      cluster: lab(),
      config,
      user: 'ann',
      gpu: {kind: 'profile', profile: '1g.5gb'},
    });
    const sessions: Array<{node: string; gpu_kind: string | null}> = [];
    for (const user of ['a', 'b', 'c']) {
      const node = chooseNode(placement, sessions, user);
      sessions.push({node: node.name, gpu_kind: 'NVIDIA-MIG-1g.5gb'});
    }
    // Equally free: the node with fewer sessions.
    expect(sessions.map((session) => session.node)).toEqual(['lab1', 'lab2', 'lab1']);
    const full = (() => {
      try {
        chooseNode(placement, sessions, 'd');
      } catch (error) {
        return error as SandmanError;
      }
      throw new Error('expected exit 5');
    })();
    expect(full.exitCode).toBe(5);
    expect(full.message).toBe('no free 1g.5gb device; free now: lab1: 4g.20gb; lab3: gpu ×2');
  });

  it('spreads sessions without a GPU over the nodes with the fewest', async () => {
    const placement = await planPlacement({cluster: lab(), config, user: 'ann', gpu: {kind: 'none'}});
    const sessions: Array<{node: string; gpu_kind: null}> = [];
    for (const user of ['a', 'b', 'c', 'd'])
      sessions.push({node: chooseNode(placement, sessions, user).name, gpu_kind: null});
    expect(sessions.map((session) => session.node)).toEqual(['lab1', 'lab2', 'lab3', 'lab1']);
  });

  it('describes devices per node in name order', () => {
    expect(describeResources(lab().nodesList.reverse())).toBe(
      'lab1: 1g.5gb ×2, 4g.20gb; lab2: 1g.5gb; lab3: gpu ×2',
    );
    expect(describeResources([])).toBe('none');
  });
});
