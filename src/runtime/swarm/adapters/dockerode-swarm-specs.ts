/**
 * The Swarm API's shapes as sandman reads and writes them (docs/admin/swarm.md): a session's
 * service spec, its tasks and the nodes' addresses.
 */
import type Dockerode from 'dockerode';

import type {ContainerSpec} from '../../docker/container-client.js';
import type {NamedResource, SwarmTask} from '../../../swarm/cluster.js';

/** Task states after which a task never runs again. */
export const ENDED = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);

export interface RawTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  CreatedAt: string;
  DesiredState: string;
  Status: {State: string; Err?: string; Message?: string; ContainerStatus?: {ExitCode?: number}};
  /** The devices Swarm assigned the task (named generic resources). */
  GenericResources?: Array<{NamedResourceSpec?: {Kind: string; Value: string}}>;
}

export interface RawService {
  ID: string;
  Version: {Index: number};
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    TaskTemplate: {ContainerSpec: {Env?: string[]}};
  };
}

/** A session as a one-replica service: `secrets` carry its files (Swarm's way to put files in a container). */
export function serviceOptions(spec: ContainerSpec, secrets: unknown[]): Dockerode.CreateServiceOptions {
  const reservations = spec.genericResource
    ? {GenericResources: [{DiscreteResourceSpec: {Kind: spec.genericResource, Value: 1}}]}
    : {};
  return {
    Name: spec.name,
    Labels: spec.labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: spec.image,
        Hostname: spec.hostname,
        Env: spec.env,
        Labels: spec.labels,
        Mounts: [
          {
            Type: spec.mount.volume ? 'volume' : 'bind',
            Source: spec.mount.source,
            Target: spec.mount.target,
            ReadOnly: false,
          },
        ],
        CapabilityDrop: ['ALL'],
        CapabilityAdd: spec.capAdd,
        Secrets: secrets,
      },
      Resources: {
        Limits: {Pids: spec.pidsLimit, MemoryBytes: spec.memoryBytes, NanoCPUs: spec.nanoCpus},
        Reservations: reservations,
      },
      // Like `unless-stopped` on one host: a crash or a node reboot brings it back on its node.
      RestartPolicy: {Condition: 'any', Delay: 1_000_000_000, MaxAttempts: 0},
      Placement: {Constraints: spec.node ? [`node.hostname==${spec.node}`] : []},
      Networks: [{Target: spec.network}],
    },
    Mode: {Replicated: {Replicas: 1}},
    // No IPVS needed: one task, its port on the node it runs on.
    EndpointSpec: {
      Mode: 'dnsrr',
      Ports: [{Protocol: 'tcp', TargetPort: 22, PublishedPort: spec.hostPort, PublishMode: 'host'}],
    },
  } as unknown as Dockerode.CreateServiceOptions;
}

export function namedResources(
  resources: Array<{NamedResourceSpec?: {Kind: string; Value: string}}> | undefined,
): NamedResource[] {
  return (resources ?? []).flatMap((resource) =>
    resource.NamedResourceSpec
      ? [{kind: resource.NamedResourceSpec.Kind, value: resource.NamedResourceSpec.Value}]
      : [],
  );
}

export function toTask(task: RawTask, service: RawService): SwarmTask {
  return {
    id: task.ID,
    service: service.Spec.Name,
    labels: service.Spec.Labels ?? {},
    nodeId: task.NodeID || undefined,
    state: task.Status.State,
    desiredState: task.DesiredState,
    error: task.Status.Err || undefined,
    devices: namedResources(task.GenericResources),
    exitCode: task.Status.ContainerStatus?.ExitCode,
    createdAt: task.CreatedAt,
  };
}

/** The part of the engine's node listing the gateway's addresses come from. */
export interface NodeInfo {
  Status?: {Addr?: string};
}
