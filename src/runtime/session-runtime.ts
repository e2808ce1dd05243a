/**
 * Where sessions run (docs/admin/swarm.md): the one port for what differs between one Docker host
 * and a Swarm cluster. The wiring (cli/services.ts) builds one implementation (runtime/docker/,
 * runtime/swarm/); the session workflows call its hooks and never ask which one it is. What one
 * runtime cannot do is an optional member, so the compiler shows every caller that must do without.
 */
import type {ContainerSpec, InContainerClient} from './docker/container-client.js';
import type {Check} from '../setup/doctor.js';
import type {GpuChoice, GpuPlan} from '../gpu/gpu-allocator.js';
import type {KeyStore} from '../ssh/key-store.js';
import type {HomeQuotas} from '../homes/home-quotas.js';
import type {SessionRecord, StoppedGpu} from '../state/state-data.js';
import type {NodeSetupRequest, NodeSetupResult} from '../swarm/node-setup.js';
import type {SwarmGpuViews} from '../swarm/swarm-gpu-views.js';

export interface SshEndpoint {
  host: string;
  port: number;
}

/** Where a session's sshd answers. */
export interface SessionEndpoints {
  /** Its published port, as this host reaches it. */
  published(record: Pick<SessionRecord, 'ssh_host' | 'ssh_port'>): SshEndpoint;
  /**
   * Its container's own address on the sessions network, where its sshd accepts sandman's relay
   * key from this host; absent where this host is not on that network (sessions on other nodes).
   */
  onNetwork?(record: Pick<SessionRecord, 'id'>): Promise<SshEndpoint>;
}

/**
 * Where the session's sshd answers from this host: its published port, or (no port of its own,
 * directPorts off) its own address on the sessions network.
 */
export async function sshEndpoint(endpoints: SessionEndpoints, record: SessionRecord): Promise<SshEndpoint> {
  if (record.published === false && endpoints.onNetwork) return endpoints.onNetwork(record);
  return endpoints.published(record);
}

/** Where sandman's relay (the SSH gateway, the browser terminal) reaches the session's sshd. */
export async function relayEndpoint(
  endpoints: SessionEndpoints,
  record: SessionRecord,
): Promise<SshEndpoint> {
  return endpoints.onNetwork ? endpoints.onNetwork(record) : endpoints.published(record);
}

/** What a create asks of the runtime, once the request is validated. */
export interface CreateInput {
  user: string;
  gpu: GpuChoice;
  /** The node the state file pins the user to (their home is there). */
  pinned?: string;
  /** `--node`. */
  requested?: string;
}

/** The record's fields a runtime settles under the state lock. */
export type SettledFields = Pick<SessionRecord, 'ssh_host'> &
  Partial<Pick<SessionRecord, 'mig_profile' | 'node' | 'gpu_kind'>>;

/** The runtime's side of one create, from its plan to its start. */
export interface RuntimeCreate extends GpuPlan {
  /** Under the state lock: where the session goes (its host name, its node). */
  settle(sessions: readonly SessionRecord[], user: string): SettledFields;
  /** The names the host certificate carries; undefined: the usual ones. */
  principals?: string[];
  /** What this runtime adds to the container spec. */
  spec(record: SessionRecord): Partial<ContainerSpec>;
  /** Starts the session's container; returns what the start settled (the device it was given). */
  start(
    record: SessionRecord,
    containerId: string,
    progress?: (step: string) => void,
  ): Promise<Partial<SessionRecord>>;
}

/** Both steps of a create's plan, so that refusals keep their order around the image's. */
export interface CreatePlanning {
  /** Refusals that come before the image's (those that need the engine first). */
  first: Promise<void>;
  /** The plan; its refusal comes after the image's. */
  plan: Promise<RuntimeCreate>;
}

/** Where the container's sshd finds files sandman keeps on this host (a bind mount). */
export type HostFiles = Pick<
  KeyStore,
  'writeHostKey' | 'hostKeyDir' | 'renewHostCertificate' | 'writeSessionFiles' | 'sessionFilesDir'
>;

/** What reaches into a session's container from here (a shell, files, a snapshot). */
export type InContainer = InContainerClient;

/** The devices a cluster's nodes advertise, and the sessions holding them (the `gpu` commands, the API). */
export type ClusterGpuViews = Pick<SwarmGpuViews, 'list' | 'profiles' | 'available'>;

/**
 * What the commands that only look (gpu, known-hosts, doctor, image build, node setup) ask of the
 * runtime. The wiring can build this part alone, so they load no session workflow or engine client.
 */
export interface RuntimeViews {
  /** The host names sessions are reached at: what a known_hosts line names. */
  hostNames(): Promise<string[]>;
  /** The cluster's devices; absent: this host's GPUs, as nvidia-smi sees them (GpuService). */
  clusterGpus?(): Promise<ClusterGpuViews>;
  /** doctor's checks of the runtime itself, once the engine answers; absent: none beyond the host's. */
  doctorChecks?(): Promise<Check[]>;
  /** After `image build`: how the image reaches where sessions run; absent: it is there already. */
  imageDistribution?(image: string): {distribute: string; note: string};
  /** `node setup`: one node's part of the runtime; absent: there are no nodes to set up. */
  nodeSetup?(request: NodeSetupRequest): Promise<NodeSetupResult>;
}

export interface SessionRuntime extends RuntimeViews {
  readonly endpoints: SessionEndpoints;
  /** Refuses (exit 2) what a create asks that this runtime cannot do. */
  checkCreate(request: {node?: string; password: boolean}): void;
  /** Started at once, beside the engine's ping (nvidia-smi alone can take longer than the engine). */
  planCreate(input: CreateInput, engineChecked: Promise<void>): CreatePlanning;
  /** A user's home, and its owner when it exists already. */
  home(user: string): Promise<{workspace: string; owner?: number}>;
  /** The mechanism that enforces a home quota of `limit` (exit 6 when none can); undefined: no quota. */
  homeQuota(limit: {value: number | undefined; source: string}): Promise<HomeQuotas | undefined>;
  /** Makes the home (under its quota) before the container mounts it; absent: the runtime does. */
  prepareHome?(record: SessionRecord, quota: {quotas: HomeQuotas; bytes: number} | undefined): Promise<void>;
  /** Gets a home ready for a start (a loop image mounted after a reboot). */
  readyHome?(workspace: string): Promise<void>;
  /** Session files on this host that the container mounts; absent: they go into the container. */
  hostFiles?: HostFiles;
  /** Puts the network rules in place before a container starts; absent: each node keeps its own. */
  ensureRules?(): Promise<unknown>;
  /** Reaches into containers; absent: they may be on other nodes. */
  inContainer?: InContainer;
  /** Plans a stopped session's device at its start; absent: the scheduler picks it. */
  startPlans?(wanted: StoppedGpu): Promise<{own?: GpuPlan; any: GpuPlan}>;
  /** After a start answers: the device the scheduler gave it. */
  afterStart?(
    record: SessionRecord,
    wanted: StoppedGpu,
  ): Promise<Pick<SessionRecord, 'gpu_uuid' | 'mig_profile'>>;
  /** What a stop loses here, said in its output. */
  readonly stopNote?: string;
}
