/**
 * What sandman needs to know about a Docker Swarm cluster (docs/admin/swarm.md), behind one small
 * interface (implemented with dockerode in src/runtime/swarm/adapters/dockerode-swarm-cluster.ts,
 * beside dockerode-swarm-services.ts, the ContainerClient that runs sessions as services).
 */

/** One advertised Swarm generic resource: a GPU or MIG device of a kind (docs/admin/swarm.md: GPUs). */
export interface NamedResource {
  kind: string;
  value: string;
}

export interface SwarmNode {
  id: string;
  /** The node's host name: what `--node` and the state file name it by. */
  name: string;
  /** The address the node was joined with: where its sessions' SSH ports are published. */
  address: string;
  /** ready, down, disconnected, unknown. */
  state: string;
  /** active, pause, drain. */
  availability: string;
  role: 'manager' | 'worker';
  resources: NamedResource[];
}

export interface SwarmTask {
  id: string;
  /** Name and labels of the service the task belongs to. */
  service: string;
  labels: Record<string, string>;
  /** Undefined while Swarm has not placed it. */
  nodeId?: string;
  /** new, pending, assigned, preparing, starting, running, complete, failed, rejected, shutdown... */
  state: string;
  desiredState: string;
  /** The engine's reason when it failed or cannot be placed. */
  error?: string;
  devices: NamedResource[];
  exitCode?: number;
  createdAt: string;
}

export interface ImageCheck {
  node: string;
  present: boolean;
  detail: string;
}

export interface Cluster {
  /** Fails with exit 6 unless the engine is a manager of an active swarm. */
  requireManager(): Promise<void>;
  nodes(): Promise<SwarmNode[]>;
  /** Tasks of the services carrying every one of these labels (their latest task each, and those before). */
  tasks(labels: Record<string, string>): Promise<SwarmTask[]>;
  /** Starts the image once on every node (a global job) and says where it could not. */
  imageOnNodes(image: string, timeoutMs: number): Promise<ImageCheck[]>;
}

/** Is the node one new sessions may be placed on? */
export function schedulable(node: SwarmNode): boolean {
  return node.state === 'ready' && node.availability === 'active';
}
