import type {ContainerSpec} from '../../src/runtime/docker/container-client.js';
import {capacity, dependencyUnavailable} from '../../src/core/errors.js';
import type {Cluster, ImageCheck, SwarmNode, SwarmTask} from '../../src/swarm/cluster.js';

/**
 * A swarm in memory: nodes as given, tasks as a test sets them or as `schedule` places a
 * session's service (wired to the fake engine's starts by test/fakes/world.ts).
 */
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
  async tasks(labels: Record<string, string> = {}): Promise<SwarmTask[]> {
    return this.tasksList.filter((task) =>
      Object.entries(labels).every(([key, value]) => task.labels[key] === value),
    );
  }

  /**
   * What Swarm does when a service is scaled to 1: its running task ends, a new one runs on its
   * node with a free device of the kind it asks for; none free is the engine's refusal (exit 5).
   */
  schedule(spec: Pick<ContainerSpec, 'name' | 'labels' | 'node' | 'genericResource'>): SwarmTask {
    this.unschedule(spec);
    const node = this.nodesList.find((candidate) => candidate.name === spec.node) ?? this.nodesList[0];
    if (!node) throw capacity('no suitable node (fake)');
    const held = new Set(
      this.tasksList
        .filter((task) => task.state === 'running' && task.nodeId === node.id)
        .flatMap((task) => task.devices.map((device) => device.value)),
    );
    const device = spec.genericResource
      ? node.resources.find((resource) => resource.kind === spec.genericResource && !held.has(resource.value))
      : undefined;
    if (spec.genericResource && !device)
      throw capacity(`no suitable node (insufficient resources on 1 node) (fake)`);
    const task: SwarmTask = {
      id: `task-${this.tasksList.length + 1}`,
      service: spec.name,
      labels: spec.labels,
      nodeId: node.id,
      state: 'running',
      desiredState: 'running',
      devices: device ? [device] : [],
      createdAt: new Date(0).toISOString(),
    };
    this.tasksList.push(task);
    return task;
  }

  /** A service scaled to 0 or removed: its task ends, its device is free again. */
  unschedule(spec: Pick<ContainerSpec, 'name'>): void {
    for (const task of this.tasksList)
      if (task.service === spec.name && task.state === 'running')
        Object.assign(task, {state: 'shutdown', desiredState: 'shutdown'});
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
