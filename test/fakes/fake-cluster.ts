import {dependencyUnavailable} from '../../src/errors.js';
import type {Cluster, ImageCheck, SwarmNode, SwarmTask} from '../../src/swarm/cluster.js';

/** A swarm in memory: nodes as given, tasks as a test sets them. */
export class FakeCluster implements Cluster {
  manager = true;
  tasksList: SwarmTask[] = [];

  constructor(public nodesList: SwarmNode[]) {}

  async requireManager(): Promise<void> {
    if (!this.manager) throw dependencyUnavailable('not a swarm manager (fake)');
  }
  async nodes(): Promise<SwarmNode[]> {
    return this.nodesList.map((node) => ({...node}));
  }
  async tasks(): Promise<SwarmTask[]> {
    return this.tasksList;
  }
  async imageOnNodes(): Promise<ImageCheck[]> {
    return this.nodesList.map((node) => ({node: node.name, present: true, detail: 'present (fake)'}));
  }
}

/** A ready, active node advertising these `KIND=UUID` resources. */
export function swarmNode(
  name: string,
  resources: string[] = [],
  overrides: Partial<SwarmNode> = {},
): SwarmNode {
  return {
    id: `id-${name}`,
    name,
    address: `10.0.0.${name.replace(/\D/g, '') || '9'}`,
    state: 'ready',
    availability: 'active',
    role: 'worker',
    resources: resources.map((resource) => {
      const [kind = '', value = ''] = resource.split('=');
      return {kind, value};
    }),
    ...overrides,
  };
}
