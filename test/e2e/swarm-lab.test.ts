import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {ROOT} from '../helpers/constants.js';

/**
 * The Swarm lab (test/swarm/lab.sh): three dockerd nodes in network namespaces of their own,
 * joined as one swarm, each advertising a replayed host's GPUs as generic resources. This is the
 * ground the Swarm backend will stand on; it proves the lab itself.
 */
const LAB = path.join(ROOT, 'test', 'swarm', 'lab.sh');
let manager: string;

beforeAll(async () => {
  const up = await execa('bash', [LAB, 'up', '3']);
  manager = /DOCKER_HOST=(\S+)/.exec(String(up.stdout))![1]!;
});
afterAll(async () => {
  await execa('bash', [LAB, 'down'], {reject: false});
});

const docker = (args: string[]) => execa('docker', ['-H', manager, ...args]);

describe('the Swarm lab', () => {
  it('has three ready nodes, each advertising its replayed host’s devices', async () => {
    const ids = String((await docker(['node', 'ls', '-q'])).stdout).split('\n');
    const nodes = await Promise.all(
      ids.map(async (id) => {
        const info = JSON.parse(String((await docker(['node', 'inspect', id])).stdout))[0];
        const kinds = (info.Description.Resources.GenericResources ?? []).map(
          (resource: {NamedResourceSpec: {Kind: string}}) => resource.NamedResourceSpec.Kind,
        );
        return {lab: info.Spec.Labels['sandman.lab'], state: info.Status.State, kinds: kinds.sort()};
      }),
    );
    nodes.sort((a, b) => (a.lab < b.lab ? -1 : 1));
    expect(nodes.map((node) => [node.lab, node.state])).toEqual([
      ['lab1', 'ready'],
      ['lab2', 'ready'],
      ['lab3', 'ready'],
    ]);
    // lab1: the A100 of a100-mig-r580 (4g.20gb, two 1c.2g.10gb, 1g.5gb); lab3: eight whole GPUs.
    expect(nodes[0]!.kinds).toEqual([
      'NVIDIA-MIG-1c.2g.10gb',
      'NVIDIA-MIG-1c.2g.10gb',
      'NVIDIA-MIG-1g.5gb',
      'NVIDIA-MIG-4g.20gb',
    ]);
    expect(nodes[2]!.kinds).toEqual(Array(8).fill('NVIDIA-GPU'));
  });

  it('places a service that asks for a MIG profile on the node that has it, with that device', async () => {
    await docker([
      'service',
      'create',
      '-q',
      '--name',
      'lab-probe',
      '--detach',
      // No registry here: the image is on every node already.
      '--no-resolve-image',
      '--endpoint-mode',
      'dnsrr',
      '--generic-resource',
      'NVIDIA-MIG-1g.5gb=1',
      '--restart-condition',
      'none',
      '--entrypoint',
      'sh',
      'sandman-test/workspace:latest',
      '-c',
      'env; sleep 300',
    ]);
    try {
      let task:
        | {
            NodeID: string;
            Status: {State: string};
            GenericResources?: Array<{NamedResourceSpec: {Value: string}}>;
          }
        | undefined;
      for (let attempt = 0; attempt < 60; attempt++) {
        const ids = String((await docker(['service', 'ps', '-q', 'lab-probe'])).stdout)
          .split('\n')
          .filter(Boolean);
        if (ids.length > 0) task = JSON.parse(String((await docker(['inspect', ids[0]!])).stdout))[0];
        if (task?.Status.State === 'running') break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(task?.Status.State).toBe('running');
      const node = JSON.parse(String((await docker(['node', 'inspect', task!.NodeID])).stdout))[0];
      expect(node.Spec.Labels['sandman.lab']).toBe('lab1');
      expect(task!.GenericResources?.map((resource) => resource.NamedResourceSpec.Value)).toEqual([
        'MIG-20301a31-77fa-59ec-b0b8-7ef543821f29',
      ]);
    } finally {
      await docker(['service', 'rm', 'lab-probe']);
    }
  });

  it('comes down leaving nothing behind', async () => {
    await execa('bash', [LAB, 'down']);
    const namespaces = String((await execa('ip', ['netns', 'list'])).stdout);
    expect(namespaces).not.toMatch(/sandman-lab/);
    const rules = String((await execa('iptables', ['-S', 'DOCKER-USER'])).stdout);
    expect(rules).not.toContain('smv-lab+');
  });
});
