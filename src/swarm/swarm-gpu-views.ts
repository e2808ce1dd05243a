import {LABELS} from '../core/labels.js';
import type {StateStore} from '../state/state-store.js';
import type {Cluster} from './cluster.js';
import {profileOfKind, WHOLE_GPU_KIND} from './swarm-names.js';

/** One device a node advertises to Swarm, and the session whose task holds it. */
export interface SwarmDeviceView {
  node: string;
  kind: string;
  /** The MIG profile, or "gpu" for a whole GPU. */
  profile: string;
  uuid: string;
  session_id: string | null;
  session_user: string | null;
}

export interface SwarmNodeView {
  node: string;
  address: string;
  state: string;
  availability: string;
  role: string;
  devices: SwarmDeviceView[];
}

export interface SwarmProfileView {
  node: string;
  profile: string;
  devices_free: number;
  devices_total: number;
}

/**
 * The `gpu` commands in swarm mode (docs/admin/swarm.md): what each node advertises, joined with
 * the sessions' tasks that Swarm gave those devices to.
 */
export class SwarmGpuViews {
  constructor(
    private readonly cluster: Cluster,
    private readonly store: StateStore,
    private readonly instance: string,
  ) {}

  async list(): Promise<SwarmNodeView[]> {
    await this.cluster.requireManager();
    const [nodes, tasks, state] = await Promise.all([
      this.cluster.nodes(),
      this.cluster.tasks({[LABELS.instance]: this.instance}),
      this.store.read(),
    ]);
    const holder = new Map<string, string>();
    for (const task of tasks) {
      if (task.desiredState !== 'running' && task.state !== 'running') continue;
      for (const device of task.devices) holder.set(device.value, task.labels[LABELS.session] ?? '');
    }
    return nodes
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((node) => ({
        node: node.name,
        address: node.address,
        state: node.state,
        availability: node.availability,
        role: node.role,
        devices: node.resources.map((resource) => {
          const sessionId = holder.get(resource.value) ?? null;
          return {
            node: node.name,
            kind: resource.kind,
            profile:
              resource.kind === WHOLE_GPU_KIND ? 'gpu' : (profileOfKind(resource.kind) ?? resource.kind),
            uuid: resource.value,
            session_id: sessionId || null,
            session_user: state.sessions.find((session) => session.id === sessionId)?.user ?? null,
          };
        }),
      }));
  }

  async profiles(): Promise<SwarmProfileView[]> {
    const counts = new Map<string, SwarmProfileView>();
    for (const node of await this.list()) {
      for (const device of node.devices) {
        const key = `${node.node}\0${device.profile}`;
        const view = counts.get(key) ?? {
          node: node.node,
          profile: device.profile,
          devices_free: 0,
          devices_total: 0,
        };
        view.devices_total++;
        if (device.session_id === null && node.state === 'ready' && node.availability === 'active')
          view.devices_free++;
        counts.set(key, view);
      }
    }
    return [...counts.values()];
  }

  /** Devices a new session could be given now: on ready, active nodes, held by no task. */
  async available(): Promise<{mode: 'swarm'; devices: SwarmDeviceView[]}> {
    const nodes = await this.list();
    return {
      mode: 'swarm',
      devices: nodes
        .filter((node) => node.state === 'ready' && node.availability === 'active')
        .flatMap((node) => node.devices.filter((device) => device.session_id === null)),
    };
  }
}
