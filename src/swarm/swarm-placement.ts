import type {Config} from '../config.js';
import {capacity, conflict, dependencyUnavailable, invalidInput, notFound} from '../errors.js';
import type {GpuChoice} from '../gpu/gpu-allocator.js';
import {schedulable, type Cluster, type NamedResource, type SwarmNode, type SwarmTask} from './cluster.js';
import {migKind, profileOfKind, WHOLE_GPU_KIND} from './swarm-names.js';

/** Where and with what a session is asked of Swarm (README "Swarm mode"). */
export interface SwarmPlacement {
  /** The node the user is pinned to (their home is there), or the one `--node` chose; undefined: Swarm chooses. */
  node?: SwarmNode;
  /** The generic resource kind to ask for; undefined: no GPU. */
  kind?: string;
  /** The MIG profile recorded for the session (null for no GPU). */
  profile: string | null;
  /** A line for the output when the choice ended in "no GPU". */
  note?: string;
  /** The names a user may connect with: every node's address and host name. */
  principals: string[];
}

/**
 * Checks a create against the cluster before anything is reserved: the user's node must be there
 * and take sessions (never silently elsewhere with an empty home), the GPU choice must be one Swarm
 * can schedule.
 */
export async function planPlacement(options: {
  cluster: Cluster;
  config: Config;
  user: string;
  /** The node the state file pins the user to. */
  pinned?: string;
  /** `--node`: where the user's first session (and home) goes. */
  requested?: string;
  gpu: GpuChoice;
}): Promise<SwarmPlacement> {
  const {cluster, config, user, pinned, requested, gpu} = options;
  if (config.migMode === 'dynamic')
    throw invalidInput(
      'migMode dynamic works on a single host only; in swarm mode use pool (README "Swarm mode")',
    );
  if (gpu.kind === 'mig-instance' || gpu.kind === 'gpu')
    throw invalidInput(
      `swarm mode: Swarm's scheduler chooses the device, so --${gpu.kind === 'gpu' ? 'gpu' : 'mig-instance'} ` +
        'cannot be used; ask for a kind with --profile (or none with --no-gpu)',
    );
  await cluster.requireManager();
  const nodes = await cluster.nodes();
  if (pinned && requested && pinned !== requested)
    throw conflict(
      `${user}'s home is on node ${pinned}; --node ${requested} would start them with an empty home ` +
        `(move the volume and the record first, README "Swarm mode")`,
    );
  const wanted = pinned ?? requested;
  let node: SwarmNode | undefined;
  if (wanted) {
    node = nodes.find((candidate) => candidate.name === wanted);
    if (!node) {
      if (!pinned)
        throw notFound(`no swarm node named ${wanted} (nodes: ${nodes.map((n) => n.name).join(', ')})`);
      throw dependencyUnavailable(`node ${wanted}, which holds ${user}'s home, is no longer in the swarm`);
    }
    if (!schedulable(node))
      throw dependencyUnavailable(
        `node ${node.name} is ${node.state}${node.availability === 'active' ? '' : ` and ${node.availability}`}: ` +
          `${user}'s home is there, so the session cannot start now (nothing was moved elsewhere)`,
      );
  }
  const principals = clusterHostNames(nodes);
  if (gpu.kind === 'none') return {node, profile: null, principals};
  const advertised = nodes.some((candidate) => candidate.resources.length > 0);
  if (gpu.kind === 'default' && !advertised)
    return {node, profile: null, principals, note: 'no node advertises GPUs: the session has none'};
  const profile = gpu.kind === 'profile' ? gpu.profile : config.defaultProfile;
  const kind = migKind(profile);
  const offered = (node ? [node] : nodes).some((candidate) =>
    candidate.resources.some((resource) => resource.kind === kind),
  );
  if (!offered)
    throw capacity(
      `no ${node ? `device on node ${node.name} (${user}'s home)` : 'node advertises a device'} of MIG profile ` +
        `${profile}; advertised: ${describeResources(node ? [node] : nodes)}`,
    );
  return {node, kind, profile, principals};
}

/** The names users reach sessions by: every node's address and host name. */
export function clusterHostNames(nodes: SwarmNode[]): string[] {
  return [...new Set(nodes.flatMap((node) => [node.address, node.name]))].filter(Boolean);
}

/** Each node's advertised devices that no live task holds. */
export function freeResources(nodes: SwarmNode[], tasks: SwarmTask[]): Map<string, NamedResource[]> {
  const held = new Set(
    tasks
      .filter((task) => task.desiredState === 'running' || task.state === 'running')
      .flatMap((task) => task.devices.map((device) => device.value)),
  );
  return new Map(
    nodes.map((node) => [node.name, node.resources.filter((resource) => !held.has(resource.value))]),
  );
}

/** `lab1: 1c.2g.10gb ×2, 4g.20gb; lab3: gpu ×8`, for messages. */
export function describeResources(nodes: Array<Pick<SwarmNode, 'name' | 'resources'>>): string {
  const parts = nodes
    .filter((node) => node.resources.length > 0)
    .map((node) => {
      const counts = new Map<string, number>();
      for (const resource of node.resources) {
        const name =
          resource.kind === WHOLE_GPU_KIND ? 'gpu' : (profileOfKind(resource.kind) ?? resource.kind);
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      const list = [...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, count]) => (count > 1 ? `${name} ×${count}` : name));
      return `${node.name}: ${list.join(', ')}`;
    });
  return parts.length > 0 ? parts.join('; ') : 'none';
}

/** Where Swarm put a session's task, and the devices it was given. */
export async function placementOf(
  cluster: Cluster,
  labels: Record<string, string>,
): Promise<{node: SwarmNode; devices: NamedResource[]}> {
  const [tasks, nodes] = await Promise.all([cluster.tasks(labels), cluster.nodes()]);
  const task = tasks.find((candidate) => candidate.state === 'running');
  const node = nodes.find((candidate) => candidate.id === task?.nodeId);
  if (!task || !node) throw dependencyUnavailable('Swarm reports the session running, but on no known node');
  return {node, devices: task.devices};
}
