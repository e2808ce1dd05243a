import type {Config} from '../config/config.js';
import {capacity, conflict, dependencyUnavailable, invalidInput, notFound} from '../core/errors.js';
import type {GpuChoice} from '../gpu/gpu-allocator.js';
import type {SessionRecord} from '../state/state-data.js';
import {schedulable, type Cluster, type NamedResource, type SwarmNode, type SwarmTask} from './cluster.js';
import {migKind, profileOfKind, WHOLE_GPU_KIND} from './swarm-names.js';

/** Where and with what a session is asked of Swarm (docs/admin/swarm.md). */
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
  /** Nodes a new user's first session may go to (ready, active, offering the kind). */
  candidates: SwarmNode[];
  /** Every node that takes sessions now, for saying what is free elsewhere. */
  usable: SwarmNode[];
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
      'migMode dynamic works on a single host only; in swarm mode use pool (docs/admin/swarm.md)',
    );
  if (gpu.kind === 'mig-instance' || (gpu.kind === 'gpu' && gpu.ref !== 'any'))
    throw invalidInput(
      `swarm mode: Swarm's scheduler chooses the device, so --${gpu.kind === 'gpu' ? 'gpu' : 'mig-instance'} ` +
        'cannot name one; ask for a kind: --profile P (a MIG device), --gpu any (a whole GPU), or --no-gpu',
    );
  await cluster.requireManager();
  const nodes = await cluster.nodes();
  if (pinned && requested && pinned !== requested)
    throw conflict(
      `${user}'s home is on node ${pinned}; --node ${requested} would start them with an empty home ` +
        `(move the volume and the record first, docs/admin/swarm.md)`,
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
        `node ${node.name} is ${unavailability(node)}: ${user}'s home is there, so the session cannot start ` +
          'now (nothing was moved elsewhere)',
      );
  }
  const principals = clusterHostNames(nodes);
  const usable = node ? [node] : nodes.filter(schedulable);
  if (usable.length === 0)
    throw dependencyUnavailable('no swarm node is ready and active: no session can start');
  if (gpu.kind === 'none') return {node, profile: null, principals, candidates: usable, usable};
  const advertised = nodes.some((candidate) => candidate.resources.length > 0);
  if (gpu.kind === 'default' && !advertised)
    return {
      node,
      profile: null,
      principals,
      candidates: usable,
      usable,
      note: 'no node advertises GPUs: the session has none',
    };
  const whole = gpu.kind === 'gpu';
  const profile = whole ? null : gpu.kind === 'profile' ? gpu.profile : config.defaultProfile;
  const kind = profile === null ? WHOLE_GPU_KIND : migKind(profile);
  const offered = (node ? [node] : nodes).some((candidate) =>
    candidate.resources.some((resource) => resource.kind === kind),
  );
  if (!offered)
    throw capacity(
      `no ${node ? `${profile === null ? 'whole GPU' : 'device'} on node ${node.name}${pinned ? ` (${user}'s home)` : ''}` : `node advertises a ${profile === null ? 'whole GPU' : 'device'}`}` +
        `${profile === null ? '' : ` of MIG profile ${profile}`}; advertised: ${describeResources(node ? [node] : nodes)}`,
    );
  const candidates = usable.filter((candidate) =>
    candidate.resources.some((resource) => resource.kind === kind),
  );
  return {node, kind, profile, principals, candidates, usable};
}

/**
 * The node for a session, under the state lock: the user's own, or for a first session the
 * candidate with the most free devices of the kind (without a GPU: the fewest sessions). Free
 * counts what sandman's sessions, running or being created, take from what a node advertises,
 * so concurrent creates never pick more than a node has; which device it is stays Swarm's choice.
 * Every session is constrained to its node from the start, so Swarm never moves it away from the
 * home (a drained node leaves it pending rather than elsewhere with an empty home).
 */
export function chooseNode(
  placement: SwarmPlacement,
  sessions: ReadonlyArray<Pick<SessionRecord, 'node' | 'gpu_kind'>>,
  user: string,
): SwarmNode {
  const taken = (node: SwarmNode) => sessions.filter((session) => session.node === node.name);
  const free = (node: SwarmNode) =>
    placement.kind === undefined
      ? Number.POSITIVE_INFINITY
      : node.resources.filter((resource) => resource.kind === placement.kind).length -
        taken(node).filter((session) => session.gpu_kind === placement.kind).length;
  const ranked = [...placement.candidates].sort(
    (a, b) => free(b) - free(a) || taken(a).length - taken(b).length || a.name.localeCompare(b.name),
  );
  const best = ranked[0];
  if (!best || free(best) <= 0) {
    const where = placement.node ? ` on node ${placement.node.name} (${user}'s home)` : '';
    throw capacity(
      `no free ${deviceName(placement)}${where}; free now: ${describeResources(
        placement.usable.map((node) => ({
          name: node.name,
          resources: freeOfRecords(node, taken(node)),
        })),
      )}`,
    );
  }
  return best;
}

/** What was asked for, in messages: `1g.5gb device`, `whole GPU`. */
export function deviceName(placement: Pick<SwarmPlacement, 'profile'>): string {
  return placement.profile === null ? 'whole GPU' : `${placement.profile} device`;
}

/** A node's advertised devices less one per sandman session there of that kind. */
function freeOfRecords(
  node: SwarmNode,
  sessions: ReadonlyArray<Pick<SessionRecord, 'gpu_kind'>>,
): NamedResource[] {
  const left = [...node.resources];
  for (const session of sessions) {
    const index = left.findIndex((resource) => resource.kind === session.gpu_kind);
    if (index >= 0) left.splice(index, 1);
  }
  return left;
}

/** Why a node takes no sessions: down, drained, paused. */
function unavailability(node: SwarmNode): string {
  if (node.state !== 'ready') return node.state;
  return node.availability === 'drain'
    ? 'drained'
    : node.availability === 'pause'
      ? 'paused'
      : node.availability;
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
  const parts = [...nodes]
    .sort((a, b) => a.name.localeCompare(b.name))
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
