import type Dockerode from 'dockerode';

import {dependencyUnavailable, httpStatus, notFound} from '../../../core/errors.js';
import type {Cluster, ImageCheck, SwarmNode, SwarmTask} from '../../../swarm/cluster.js';
import {DockerodeContainerClient} from '../../docker/adapters/dockerode-container-client.js';
import {absentIfGone, dockerCall, type DockerCall} from '../../docker/adapters/dockerode-engine.js';
import {ENDED, namedResources, toTask, type RawService, type RawTask} from './dockerode-swarm-specs.js';

const POLL_MS = 150;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The Swarm cluster as the manager sees it (docs/admin/swarm.md): its nodes, the tasks of sessions'
 * services, where an image can run. The sessions themselves are services
 * (dockerode-swarm-services.ts), which read their tasks here.
 */
export class DockerodeSwarmCluster implements Cluster {
  readonly #call: DockerCall;
  readonly #local: DockerodeContainerClient;

  constructor(call: DockerCall = dockerCall()) {
    this.#call = call;
    this.#local = new DockerodeContainerClient(call);
  }

  async requireManager(): Promise<void> {
    await this.#local.ping();
    const info = await this.#call('read the engine info', (docker) => docker.info());
    const swarm = (info as {Swarm?: {LocalNodeState?: string; ControlAvailable?: boolean}}).Swarm;
    if (swarm?.LocalNodeState !== 'active') {
      throw dependencyUnavailable(
        `backend is swarm, but this Docker engine is not part of a swarm (state ${swarm?.LocalNodeState ?? 'unknown'}); ` +
          'run sandman on a manager node (docker swarm init / join as manager)',
      );
    }
    if (!swarm.ControlAvailable) {
      throw dependencyUnavailable(
        'backend is swarm, but this Docker engine is a worker: run sandman on a manager node',
      );
    }
  }

  /** In host-name order, so every listing and message reads the same. */
  async nodes(): Promise<SwarmNode[]> {
    return this.#call('list swarm nodes', async (docker) => {
      const nodes = (await docker.listNodes()) as Array<{
        ID: string;
        Spec: {Role: string; Availability: string};
        Description?: {
          Hostname?: string;
          Resources?: {
            GenericResources?: Array<{NamedResourceSpec?: {Kind: string; Value: string}}>;
          };
        };
        Status: {State: string; Addr?: string};
        ManagerStatus?: {Addr?: string};
      }>;
      const named = nodes.map((node): SwarmNode => {
        // A manager may report 0.0.0.0 as its status address; its raft address has the real one.
        let address = node.Status.Addr ?? '';
        if ((address === '' || address === '0.0.0.0') && node.ManagerStatus?.Addr)
          address = node.ManagerStatus.Addr.replace(/:\d+$/, '');
        return {
          id: node.ID,
          name: node.Description?.Hostname ?? node.ID,
          address,
          state: node.Status.State,
          availability: node.Spec.Availability,
          role: node.Spec.Role === 'manager' ? 'manager' : 'worker',
          resources: namedResources(node.Description?.Resources?.GenericResources),
        };
      });
      return named.sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  async tasks(labels: Record<string, string>): Promise<SwarmTask[]> {
    return this.#call('list swarm tasks', async (docker) => {
      const services = (await docker.listServices({
        filters: {label: Object.entries(labels).map(([key, value]) => `${key}=${value}`)},
      })) as RawService[];
      if (services.length === 0) return [];
      const byId = new Map(services.map((service) => [service.ID, service]));
      const tasks = (await docker.listTasks({
        filters: {service: services.map((service) => service.ID)},
      })) as RawTask[];
      return tasks.flatMap((task) => {
        const service = byId.get(task.ServiceID);
        return service ? [toTask(task, service)] : [];
      });
    });
  }

  /** One service's tasks, newest first; NOT_FOUND when there is no such service. */
  async serviceTasks(idOrName: string): Promise<SwarmTask[]> {
    return this.#call(`inspect service ${idOrName.slice(0, 64)}`, async (docker) => {
      let service: RawService;
      try {
        service = (await docker.getService(idOrName).inspect()) as RawService;
      } catch (error) {
        if (httpStatus(error) === 404) throw notFound(`service ${idOrName} does not exist`);
        throw error;
      }
      const tasks = (await docker.listTasks({filters: {service: [service.ID]}})) as RawTask[];
      return tasks
        .map((task) => toTask(task, service))
        .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    });
  }

  async imageOnNodes(image: string, timeoutMs: number): Promise<ImageCheck[]> {
    const name = `sandman-image-check-${process.pid}-${Date.now().toString(36)}`;
    const nodes = (await this.nodes()).filter((node) => node.state === 'ready');
    await this.#call(`create service ${name}`, (docker) =>
      docker.createService({
        Name: name,
        TaskTemplate: {
          ContainerSpec: {Image: image, Command: ['true']},
          RestartPolicy: {Condition: 'none'},
        },
        Mode: {GlobalJob: {}},
      } as unknown as Dockerode.CreateServiceOptions),
    );
    try {
      const deadline = Date.now() + timeoutMs;
      let tasks: SwarmTask[] = [];
      for (;;) {
        tasks = await this.serviceTasks(name);
        const settled = nodes.every((node) =>
          tasks.some((task) => task.nodeId === node.id && ENDED.has(task.state)),
        );
        if (settled || Date.now() > deadline) break;
        await sleep(POLL_MS * 2);
      }
      return nodes.map((node) => {
        const task = tasks.find((candidate) => candidate.nodeId === node.id);
        if (!task) return {node: node.name, present: false, detail: 'no task ran there (drained or paused?)'};
        if (task.state === 'complete') return {node: node.name, present: true, detail: `${image} present`};
        return {
          node: node.name,
          present: false,
          detail: ENDED.has(task.state)
            ? (task.error ?? task.state)
            : `still ${task.state} after ${timeoutMs / 1000}s`,
        };
      });
    } finally {
      // A global job has no replicas to stop and no secrets: removing the service is all.
      await this.#call(`remove service ${name}`, (docker) =>
        absentIfGone(() => docker.getService(name).remove()),
      ).catch(() => undefined);
    }
  }
}
