import type {Config} from '../../config/config.js';
import type {ContainerClient} from '../docker/container-client.js';
import {capacity, dependencyUnavailable, invalidInput, isSandmanError} from '../../core/errors.js';
import {LABELS} from '../../core/labels.js';
import {quotaWords} from '../../homes/quota-for.js';
import type {Check} from '../../setup/doctor.js';
import type {SessionRecord, StoppedGpu} from '../../state/state-data.js';
import type {StateStore} from '../../state/state-store.js';
import type {Cluster} from '../../swarm/cluster.js';
import type {NodeSetupRequest, NodeSetupResult} from '../../swarm/node-setup.js';
import type {SwarmGpuViews} from '../../swarm/swarm-gpu-views.js';
import {homeVolume} from '../../swarm/swarm-names.js';
import {
  chooseNode,
  clusterHostNames,
  describeResources,
  deviceName,
  freeResources,
  placementOf,
  planPlacement,
  type SwarmPlacement,
} from '../../swarm/swarm-placement.js';
import type {
  CreateInput,
  CreatePlanning,
  RuntimeCreate,
  SessionEndpoints,
  SessionRuntime,
} from '../session-runtime.js';

/** Swarm mode: a session is reached at its node's published port, from anywhere. */
export const swarmEndpoints: SessionEndpoints = {
  published: (record) => ({host: record.ssh_host, port: record.ssh_port}),
};

export interface SwarmRuntimeDeps {
  config: Config;
  /** The sessions as services (adapters/dockerode-swarm-services.ts). */
  docker: Pick<ContainerClient, 'startContainer'>;
  /** The cluster's nodes and tasks (adapters/dockerode-swarm-cluster.ts). */
  cluster: Cluster;
  /** The state directory's instance label: which services are this sandman's. */
  instance: string;
  /** The state file: who holds each device, in the GPU views. */
  store: () => Promise<StateStore>;
  /** `node setup` on this node (swarm/node-setup.ts, wired to its host); absent: not offered. */
  setUpNode?: (request: NodeSetupRequest) => Promise<NodeSetupResult>;
}

/**
 * Sessions as one-replica services on a Swarm cluster (docs/admin/swarm.md): Swarm's scheduler
 * hands out the devices the nodes advertise, the home is a volume on the user's node, and the
 * host key and session files go into the service's spec; sandman reaches no container itself.
 */
export class SwarmRuntime implements SessionRuntime {
  readonly endpoints = swarmEndpoints;
  readonly stopNote =
    'swarm mode: the service is scaled to 0; the home volume stays, files outside it do not';

  readonly nodeSetup?: (request: NodeSetupRequest) => Promise<NodeSetupResult>;

  constructor(private readonly deps: SwarmRuntimeDeps) {
    if (deps.setUpNode) this.nodeSetup = deps.setUpNode;
  }

  /** Sessions are reached at their node, by its address or name. */
  async hostNames(): Promise<string[]> {
    return clusterHostNames(await this.deps.cluster.nodes());
  }

  /** Devices on every node, and the sessions' tasks Swarm gave them to. */
  async clusterGpus(): Promise<SwarmGpuViews> {
    const {SwarmGpuViews} = await import('../../swarm/swarm-gpu-views.js');
    return new SwarmGpuViews(this.deps.cluster, await this.deps.store(), this.deps.instance);
  }

  /** Manager, nodes, advertised devices, the image on every node, the sessions' tasks. */
  async doctorChecks(): Promise<Check[]> {
    const {swarmChecks} = await import('../../swarm/swarm-doctor.js');
    return swarmChecks(this.deps.cluster, this.deps.config, this.deps.instance);
  }

  /** Every node starts sessions from its own copy of the image (docs/admin/swarm.md: the image). */
  imageDistribution(image: string): {distribute: string; note: string} {
    const distribute =
      `the image is on this manager only: push it to a registry the nodes pull from (docker tag/push, and set image ` +
      `to that name), or copy it to every node: docker save ${image} | ssh NODE docker load ` +
      `(then "sandman doctor" checks it runs on every node)`;
    return {distribute, note: `Swarm mode: ${distribute}`};
  }

  checkCreate(request: {password: boolean}): void {
    if (!this.deps.config.directPorts)
      throw invalidInput(
        "swarm mode: directPorts false is not available (the gateway reaches sessions at their node's published port)",
      );
    if (request.password)
      throw invalidInput(
        'swarm mode: --password is not available (sandman cannot reach a container on another node to set it); use keys',
      );
  }

  planCreate(input: CreateInput, engineChecked: Promise<void>): CreatePlanning {
    const {cluster, config} = this.deps;
    // Asked once the engine answered: the placement's refusals come before the image's.
    const placement = engineChecked.then(() =>
      planPlacement({
        cluster,
        config,
        user: input.user,
        pinned: input.pinned,
        requested: input.requested,
        gpu: input.gpu,
      }),
    );
    return {
      first: placement.then(() => undefined),
      plan: placement.then((placed) => this.#create(placed)),
    };
  }

  #create(placement: SwarmPlacement): RuntimeCreate {
    return {
      // The scheduler picks the device, so sandman's allocator reserves none.
      pick: () => null,
      ...(placement.note ? {note: placement.note} : {}),
      // The node is settled under the lock, so concurrent creates share the nodes out.
      settle: (sessions, user) => {
        const node = chooseNode(placement, sessions, user);
        return {
          ssh_host: node.address,
          // The profile asked for; the device is known once Swarm has placed the task.
          mig_profile: placement.profile,
          node: node.name,
          gpu_kind: placement.kind ?? null,
        };
      },
      principals: placement.principals,
      spec: (record) => ({
        mount: {source: record.workspace, target: `/home/${record.user}`, volume: true},
        ...(record.node ? {node: record.node} : {}),
        ...(placement.kind ? {genericResource: placement.kind} : {}),
      }),
      start: (record, serviceId, progress) => this.#placed(record, serviceId, placement, progress),
    };
  }

  /**
   * Waits until Swarm has started the session on its node, then says the device Swarm gave it.
   * A session Swarm cannot place is exit 5, naming what is free on that node.
   */
  async #placed(
    record: SessionRecord,
    serviceId: string,
    placement: SwarmPlacement,
    progress?: (step: string) => void,
  ): Promise<Partial<SessionRecord>> {
    const {cluster} = this.deps;
    progress?.('Waiting for Swarm to place the session');
    try {
      await this.deps.docker.startContainer(serviceId);
    } catch (error) {
      if (!isSandmanError(error) || error.kind !== 'CAPACITY') throw error;
      const [nodes, tasks] = await Promise.all([
        cluster.nodes(),
        cluster.tasks({[LABELS.instance]: this.deps.instance}),
      ]);
      const free = freeResources(nodes, tasks).get(record.node!) ?? [];
      const freeNow = describeResources([{name: record.node!, resources: free}]);
      throw capacity(
        placement.kind
          ? `no free ${deviceName(placement)} on node ${record.node}: ${error.message}; free now: ${freeNow}`
          : `no room for the session on node ${record.node}: ${error.message}`,
      );
    }
    const {devices} = await placementOf(cluster, {[LABELS.session]: record.id});
    return placement.kind ? {gpu_uuid: devices[0]?.value ?? null} : {};
  }

  /** The home is a volume the node makes at the first start. */
  async home(user: string): Promise<{workspace: string}> {
    return {workspace: homeVolume(user)};
  }

  async homeQuota(limit: {value: number | undefined; source: string}): Promise<undefined> {
    if (limit.value === undefined) return undefined;
    throw dependencyUnavailable(
      `swarm mode: ${quotaWords({value: limit.value, source: limit.source})} cannot be enforced on the nodes' volumes`,
    );
  }

  /** The service is scaled back up and Swarm's scheduler picked the device: which one. */
  async afterStart(
    record: SessionRecord,
    wanted: StoppedGpu,
  ): Promise<Pick<SessionRecord, 'gpu_uuid' | 'mig_profile'>> {
    const {devices} = await placementOf(this.deps.cluster, {[LABELS.session]: record.id});
    return {gpu_uuid: devices[0]?.value ?? null, mig_profile: wanted.mig_profile};
  }
}
