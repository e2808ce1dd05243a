import type {Config} from '../../config/config.js';
import type {ContainerClient, InContainerClient} from './container-client.js';
import {SandmanError} from '../../core/errors.js';
import type {GpuAllocator, GpuChoice, GpuPlan} from '../../gpu/gpu-allocator.js';
import type {KeyStore} from '../../ssh/key-store.js';
import {LABELS} from '../../core/labels.js';
import {quotaFor} from '../../homes/quota-for.js';
import type {HomeQuotas, QuotaChoice} from '../../homes/home-quotas.js';
import {localAddress} from '../../session/ssh-client.js';
import type {StoppedGpu} from '../../state/state-data.js';
import {workspacePath, type Workspaces} from '../../homes/workspace.js';
import {invalidInput} from '../../core/errors.js';
import {connectionHost} from '../../host/connection-host.js';
import type {
  CreateInput,
  CreatePlanning,
  InContainer,
  RuntimeCreate,
  RuntimeViews,
  SessionEndpoints,
  SessionRuntime,
  SshEndpoint,
} from '../session-runtime.js';

/** A session container's sshd on its own address on the sessions network. */
export async function containerEndpoint(
  docker: Pick<ContainerClient, 'listContainers'>,
  network: string,
  sessionId: string,
): Promise<SshEndpoint> {
  // A session moving to another device has two containers for a moment: the running one counts.
  const containers = await docker.listContainers({[LABELS.session]: sessionId});
  const host = containers.map((container) => container.addresses?.[network]).find(Boolean);
  if (!host)
    throw new SandmanError(
      'FAILURE',
      `session ${sessionId} has no address on network ${network} (is its container running?)`,
    );
  return {host, port: 22};
}

/** One host's sessions: ports published on bindAddress, and this host on the sessions network. */
export function dockerEndpoints(
  config: Pick<Config, 'bindAddress' | 'network'>,
  docker: Pick<ContainerClient, 'listContainers'>,
): SessionEndpoints {
  return {
    published: (record) => ({host: localAddress(config.bindAddress), port: record.ssh_port}),
    onNetwork: (record) => containerEndpoint(docker, config.network, record.id),
  };
}

/**
 * One host's views: sessions are reached at this host's name; its GPUs are nvidia-smi's (GpuService)
 * and its checks the host's own doctor checks.
 */
export function dockerViews(deps: {
  config: Pick<Config, 'sshHost'>;
  sshHost: () => Promise<string>;
}): RuntimeViews {
  return {hostNames: async () => [await connectionHost(deps.config, deps.sshHost)]};
}

export interface DockerRuntimeDeps {
  config: Config;
  docker: ContainerClient & InContainerClient;
  gpus: GpuAllocator;
  keys: KeyStore;
  workspaces: Workspaces;
  /** The home quota mechanism under workspaceRoot (docs/admin/disk-quotas.md); absent: no quotas. */
  homeQuotas?: () => Promise<{choice: QuotaChoice; quotas?: HomeQuotas}>;
  networkBoundary: {ensure(): Promise<unknown>};
  sshHost: () => Promise<string>;
}

/**
 * Sessions as containers on this host's Docker engine: sandman reserves each GPU device
 * (nvidia-smi), makes the home under workspaceRoot, keeps session files in directories the
 * container mounts and reaches into containers itself.
 */
export class DockerRuntime implements SessionRuntime {
  readonly endpoints: SessionEndpoints;
  readonly hostFiles: KeyStore;
  readonly inContainer: InContainer;
  readonly hostNames: RuntimeViews['hostNames'];

  constructor(private readonly deps: DockerRuntimeDeps) {
    this.endpoints = dockerEndpoints(deps.config, deps.docker);
    this.hostNames = dockerViews(deps).hostNames;
    this.hostFiles = deps.keys;
    this.inContainer = deps.docker;
  }

  checkCreate(request: {node?: string}): void {
    if (request.node !== undefined)
      throw invalidInput('--node works in swarm mode only (backend swarm, docs/admin/swarm.md)');
  }

  planCreate(input: CreateInput): CreatePlanning {
    const {config, docker} = this.deps;
    const planned = Promise.all([
      this.deps.gpus.plan(input.gpu),
      connectionHost(config, this.deps.sshHost),
    ]).then(([gpuPlan, sshHost]): RuntimeCreate => ({
      ...(gpuPlan.note ? {note: gpuPlan.note} : {}),
      pick: (held, pending) => gpuPlan.pick(held, pending),
      ...(gpuPlan.fraction ? {fraction: gpuPlan.fraction.bind(gpuPlan)} : {}),
      settle: () => ({ssh_host: sshHost}),
      spec: () => ({}),
      start: async (_record, containerId) => {
        await docker.startContainer(containerId);
        return {};
      },
    }));
    return {first: Promise.resolve(), plan: planned};
  }

  async home(user: string): Promise<{workspace: string; owner?: number}> {
    const workspace = workspacePath(this.deps.config.workspaceRoot, user);
    return {workspace, owner: await this.deps.workspaces.owner(workspace)};
  }

  homeQuota(limit: {value: number | undefined; source: string}): Promise<HomeQuotas | undefined> {
    return quotaFor(this.deps, limit);
  }

  async prepareHome(
    record: {workspace: string; uid: number},
    quota: {quotas: HomeQuotas; bytes: number} | undefined,
  ): Promise<void> {
    // With a quota, the home is made (or moved) so that it enforces it first (docs/admin/disk-quotas.md).
    if (quota) await quota.quotas.apply(record.workspace, record.uid, quota.bytes);
    await this.deps.workspaces.ensure(record.workspace, record.uid);
  }

  async readyHome(workspace: string): Promise<void> {
    await (await this.deps.homeQuotas?.())?.quotas?.ready(workspace);
  }

  ensureRules(): Promise<unknown> {
    return this.deps.networkBoundary.ensure();
  }

  /** Its own device first (if still there and free), else any of its kind. */
  async startPlans(wanted: StoppedGpu): Promise<{own?: GpuPlan; any: GpuPlan}> {
    const {gpus} = this.deps;
    const own: GpuChoice = wanted.mig_profile
      ? {kind: 'mig-instance', uuid: wanted.gpu_uuid}
      : {kind: 'gpu', ref: wanted.gpu_uuid};
    const any: GpuChoice = wanted.mig_profile
      ? {kind: 'profile', profile: wanted.mig_profile}
      : {kind: 'gpu', ref: 'any'};
    const [ownPlan, anyPlan] = await Promise.all([gpus.plan(own).catch(() => undefined), gpus.plan(any)]);
    return {own: ownPlan, any: anyPlan};
  }
}
