import type Dockerode from 'dockerode';

import {capacity, dependencyUnavailable, httpStatus, SandmanError} from '../../../core/errors.js';
import type {
  ContainerClient,
  ContainerSpec,
  ContainerState,
  ContainerSummary,
  RemoveOutcome,
} from '../../docker/container-client.js';
import type {Engine} from '../../docker/engine-client.js';
import type {ImageClient} from '../../docker/image-client.js';
import type {NetworkClient} from '../../docker/network-client.js';
import type {SwarmTask} from '../../../swarm/cluster.js';
import {nodeNetwork} from '../../../swarm/swarm-names.js';
import {DockerodeContainerClient} from '../../docker/adapters/dockerode-container-client.js';
import {absentIfGone, dockerCall, dockerMessage, readLogs} from '../../docker/adapters/dockerode-engine.js';
import {
  ENDED,
  serviceOptions,
  type NodeInfo,
  type RawService,
  type RawTask,
} from './dockerode-swarm-specs.js';
import {DockerodeSwarmCluster} from './dockerode-swarm-cluster.js';

const POLL_MS = 150;
/** How many failed starts of a session's task make its create fail. */
const START_ATTEMPTS = 3;
/** Docker's own stop timeout is 10 s; a session's sshd stops at once on SIGTERM. */
const STOP_TIMEOUT_MS = 15_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sessions as Docker Swarm services (docs/admin/swarm.md): one replica, SSH published in host mode
 * on the node it runs on, the host key as Swarm secrets, the home a named volume. Talks to a
 * manager; everything a single engine does alike (image, build, ping) goes to the local engine,
 * and the cluster's nodes and tasks to dockerode-swarm-cluster.ts.
 */
export class DockerodeSwarmServices implements Engine, ContainerClient, ImageClient, NetworkClient {
  /** One connection to the manager's engine, shared with the single-engine calls below. */
  readonly #call = dockerCall();
  readonly #local = new DockerodeContainerClient(this.#call);
  /** The cluster's nodes and tasks, on the same connection (the wiring's `Cluster`). */
  readonly cluster = new DockerodeSwarmCluster(this.#call);

  constructor(
    /** How long start waits for Swarm to place and start a session. */
    private readonly startTimeoutMs: number,
  ) {}

  ping(): Promise<void> {
    return this.#local.ping();
  }

  imageExists(reference: string): Promise<boolean> {
    return this.#local.imageExists(reference);
  }

  imageLabels(reference: string): Promise<Record<string, string> | undefined> {
    return this.#local.imageLabels(reference);
  }

  buildImage(options: Parameters<ImageClient['buildImage']>[0]): Promise<void> {
    return this.#local.buildImage(options);
  }

  // The sessions' network: swarm-scoped, made from the configuration-only network every node has.

  #configNetwork(name: string): Promise<Record<string, string> | undefined> {
    return this.#local.networkOptions(nodeNetwork(name));
  }

  async networkIcc(name: string): Promise<boolean | undefined> {
    const options = await this.#configNetwork(name);
    if (!options) return undefined;
    return options['com.docker.network.bridge.enable_icc'] !== 'false';
  }

  async networkBridge(name: string): Promise<string | undefined> {
    const options = await this.#configNetwork(name);
    return options?.['com.docker.network.bridge.name'];
  }

  /** The swarm network carries no labels (Docker refuses them on a configured network): by name. */
  async removeNetwork(name: string): Promise<RemoveOutcome | 'foreign'> {
    return this.#call(`remove swarm network ${name}`, (docker) =>
      absentIfGone(() => docker.getNetwork(name).remove()),
    );
  }

  async removeImage(reference: string): Promise<RemoveOutcome> {
    return this.#call(`remove image ${reference}`, (docker) =>
      absentIfGone(() => docker.getImage(reference).remove()),
    );
  }

  async ensureNetwork(name: string): Promise<string[]> {
    await this.#call(`create swarm network ${name}`, async (docker) => {
      const existing = await docker.listNetworks({filters: {name: [name]}});
      if (existing.some((network) => network.Name === name && network.Scope === 'swarm')) return;
      try {
        await docker.createNetwork({
          Name: name,
          Driver: 'bridge',
          Scope: 'swarm',
          ConfigFrom: {Network: nodeNetwork(name)},
          // No labels: Docker refuses any setting of its own on a network made from a configuration.
        } as unknown as Dockerode.NetworkCreateOptions);
      } catch (error) {
        if (/not found/i.test(dockerMessage(error))) {
          throw dependencyUnavailable(
            `the configuration network ${nodeNetwork(name)} is missing on this manager: ` +
              'run "sandman node setup --apply" on every node (docs/admin/swarm.md)',
          );
        }
        // A concurrent create made it first.
        if (httpStatus(error) !== 409) throw error;
      }
    });
    // The SSH gateway runs on a manager and reaches sessions at their node's published port.
    return this.#call('list swarm managers', async (docker) =>
      ((await docker.listNodes({filters: JSON.stringify({role: ['manager']})})) as NodeInfo[]).flatMap(
        (node) => (node.Status?.Addr ? [node.Status.Addr] : []),
      ),
    );
  }

  async createContainer(spec: ContainerSpec): Promise<string> {
    // A host directory exists on this host only; a service takes its files as secrets.
    if (spec.keyMount || spec.filesMount)
      throw new Error('a Swarm service cannot mount a host directory of the session; give its files');
    return this.#call(`create service ${spec.name}`, async (docker) => {
      // Secrets are Swarm's way to put files in a container before it starts.
      const secrets = [];
      for (const [index, file] of spec.files.entries()) {
        const name = `${spec.name}-f${index}`;
        const created = (await docker.createSecret({
          Name: name,
          Labels: spec.labels,
          Data: Buffer.from(file.content).toString('base64'),
        } as unknown as Record<string, unknown>)) as {id?: string; ID?: string};
        secrets.push({
          SecretID: created.id ?? created.ID,
          SecretName: name,
          File: {Name: file.path, UID: '0', GID: '0', Mode: file.mode},
        });
      }
      const service = (await docker.createService(serviceOptions(spec, secrets))) as {
        id?: string;
        ID?: string;
      };
      return (service.id ?? service.ID)!;
    });
  }

  async startContainer(id: string): Promise<void> {
    // A service `session stop` scaled to nothing is scaled back to one.
    await this.#call(`start service ${id.slice(0, 12)}`, async (docker) => {
      const service = (await docker.getService(id).inspect()) as RawService;
      const mode = (service.Spec as {Mode?: {Replicated?: {Replicas?: number}}}).Mode;
      if (mode?.Replicated?.Replicas === 0) {
        const spec = {
          ...(service.Spec as unknown as Record<string, unknown>),
          Mode: {Replicated: {Replicas: 1}},
        };
        await docker.getService(service.ID).update({version: service.Version.Index, ...spec});
      }
    });
    // Swarm starts a service by itself: wait until its task runs, or say why it cannot.
    const deadline = Date.now() + this.startTimeoutMs;
    for (;;) {
      const tasks = await this.cluster.serviceTasks(id);
      const current = tasks.find((task) => task.desiredState === 'running') ?? tasks[0];
      if (current?.state === 'running') return;
      // Swarm starts a failed task again by itself (restart condition any): a first start can fail
      // for a passing reason (two tasks making the node's bridge at once). Repeated failures are the
      // session's own (a refused device, a missing image): say the latest reason.
      const failed = tasks.filter((task) => task.state === 'failed' || task.state === 'rejected');
      if (failed.length >= START_ATTEMPTS) {
        throw new SandmanError(
          'FAILURE',
          `Swarm could not start ${current?.service ?? id} (${failed.length} attempts): ${failed[0]!.error ?? failed[0]!.state}`,
        );
      }
      if (current?.state === 'pending' && current.error && /no suitable node/i.test(current.error)) {
        throw capacity(`Swarm cannot place ${current.service}: ${current.error}`);
      }
      if (Date.now() > deadline) {
        throw new SandmanError(
          'FAILURE',
          `Swarm did not start ${current?.service ?? id} within ${this.startTimeoutMs / 1000}s ` +
            `(task ${current?.state ?? 'not created'}${current?.error ? `: ${current.error}` : ''})`,
        );
      }
      await sleep(POLL_MS);
    }
  }

  async storage(): Promise<{driver: string; backingFilesystem: string | null}> {
    // Swarm mode: each node's engine has its own; the manager's says nothing of them.
    return {driver: 'swarm', backingFilesystem: null};
  }

  /** Scales the service to nothing: its home volume stays, its task's writable layer does not. */
  async stopContainer(id: string): Promise<void> {
    await this.#call(`stop service ${id.slice(0, 12)}`, async (docker) =>
      this.#stopTasks(docker, (await docker.getService(id).inspect()) as RawService),
    );
  }

  async removeContainer(idOrName: string): Promise<RemoveOutcome> {
    return this.#call(`remove service ${idOrName.slice(0, 64)}`, async (docker) => {
      let name = idOrName;
      let outcome: RemoveOutcome = 'removed';
      try {
        const service = (await docker.getService(idOrName).inspect()) as RawService;
        name = service.Spec.Name;
        if ((service.Spec as {Mode?: {Replicated?: unknown}}).Mode?.Replicated)
          await this.#stopTasks(docker, service);
        await docker.getService(service.ID).remove();
      } catch (error) {
        if (httpStatus(error) !== 404) throw error;
        outcome = 'absent';
      }
      // Its secrets go with it ("already gone" is fine: a concurrent removal took them).
      const secrets = await docker.listSecrets({filters: {name: [`${name}-f`]}});
      for (const secret of secrets as Array<{ID: string; Spec: {Name: string}}>) {
        if (!secret.Spec.Name.startsWith(`${name}-f`)) continue;
        await docker
          .getSecret(secret.ID)
          .remove()
          .catch((error: unknown) => {
            if (httpStatus(error) !== 404) throw error;
          });
      }
      return outcome;
    });
  }

  /**
   * Scales a service to nothing and waits until its container has stopped: Swarm removes a service
   * in the background, and its host port stays taken on the node until then (the next session
   * given that port would find it in use).
   */
  async #stopTasks(docker: Dockerode, service: RawService): Promise<void> {
    const spec = {...(service.Spec as unknown as Record<string, unknown>), Mode: {Replicated: {Replicas: 0}}};
    await docker.getService(service.ID).update({version: service.Version.Index, ...spec});
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const tasks = (await docker.listTasks({filters: {service: [service.ID]}})) as RawTask[];
      if (tasks.every((task) => ENDED.has(task.Status.State) || task.Status.State === 'new')) return;
      await sleep(POLL_MS);
    }
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const [services, tasks] = await Promise.all([
      this.#call('list services', (docker) =>
        docker.listServices({
          filters: {label: Object.entries(labels).map(([key, value]) => `${key}=${value}`)},
        }),
      ) as Promise<RawService[]>,
      this.cluster.tasks(labels),
    ]);
    return services.map((service) => {
      const own = tasks.filter((task) => task.service === service.Spec.Name);
      const current = own.find((task) => task.desiredState === 'running') ?? own[0];
      return {
        id: service.ID,
        name: service.Spec.Name,
        labels: service.Spec.Labels ?? {},
        state: current?.state ?? 'pending',
        ...(current && current.state !== 'running' && current.error ? {problem: current.error} : {}),
      };
    });
  }

  async inspectContainer(idOrName: string): Promise<ContainerState | undefined> {
    let tasks: SwarmTask[];
    try {
      tasks = await this.cluster.serviceTasks(idOrName);
    } catch (error) {
      if (error instanceof SandmanError && error.kind === 'NOT_FOUND') return undefined;
      throw error;
    }
    const current = tasks.find((task) => task.desiredState === 'running') ?? tasks[0];
    return {
      running: current?.state === 'running',
      exitCode: current?.exitCode ?? 0,
      status: current ? `${current.state}${current.error ? ` (${current.error})` : ''}` : 'no task',
      // Every task after the first is a restart (crash, or its node went away).
      restartCount: Math.max(0, tasks.length - 1),
      restarting: false,
    };
  }

  async containerEnv(idOrName: string): Promise<string[] | undefined> {
    return this.#call(`inspect service ${idOrName.slice(0, 64)}`, async (docker) => {
      try {
        const service = (await docker.getService(idOrName).inspect()) as RawService;
        return service.Spec.TaskTemplate.ContainerSpec.Env ?? [];
      } catch (error) {
        if (httpStatus(error) === 404) return undefined;
        throw error;
      }
    });
  }

  /** A session's container may be on another node: its processes are not this host's to see. */
  async runningPid(): Promise<number | undefined> {
    return undefined;
  }

  async logs(idOrName: string, options: {follow: boolean; tail?: number}): Promise<NodeJS.ReadableStream> {
    return this.#call(`read logs of ${idOrName.slice(0, 64)}`, (docker) =>
      readLogs(
        docker,
        docker.getService(idOrName) as unknown as Parameters<typeof readLogs>[1],
        `service ${idOrName}`,
        options,
      ),
    );
  }
}
