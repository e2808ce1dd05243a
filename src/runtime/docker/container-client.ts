/**
 * What sandman does with a container engine's containers, behind one small interface (implemented
 * with dockerode in adapters/dockerode-container-client.ts; Swarm services in
 * ../swarm/adapters/dockerode-swarm-services.ts). Images, networks and the engine itself have their
 * own interfaces beside it (image-client.ts, network-client.ts, engine-client.ts), so a caller
 * that needs one resource takes that one. Docker's own words stay out of the domain code.
 */

export interface ContainerSpec {
  name: string;
  image: string;
  hostname: string;
  labels: Record<string, string>;
  env: string[];
  network: string;
  /** Host side of the published SSH port; none: not published (reached on the network only). */
  bindAddress: string;
  hostPort?: number;
  /**
   * The user's workspace, as their home directory; a host directory, or
   * (Swarm mode) a named local volume on the node the session runs on.
   */
  mount: {source: string; target: string; volume?: boolean};
  /**
   * A host directory mounted read-only (the session's host key and certificate, which sandman
   * renews in place); not in Swarm mode, where they are files.
   */
  keyMount?: {source: string; target: string};
  /**
   * A host directory mounted read-only: the session's authorized_keys and login banner, which
   * sandman rewrites in place (an image labelled IMAGE_LABELS.sessionFiles only).
   */
  filesMount?: {source: string; target: string};
  /** Files in place before the first start (Swarm mode: the host key and its certificate), owned by root. */
  files: ContainerFile[];
  capAdd: string[];
  pidsLimit: number;
  memoryBytes?: number;
  /** The container's own writable layer, at most this many bytes (overlay2 on XFS with pquota). */
  diskBytes?: number;
  nanoCpus?: number;
  /** NVIDIA device request for exactly this GPU or MIG UUID (what `docker run --gpus device=UUID` sends). */
  gpuUuid?: string;
  /** Swarm mode: one Swarm generic resource of this kind (the scheduler picks node and device). */
  genericResource?: string;
  /** Swarm mode: run on this node (its host name) only. */
  node?: string;
  /**
   * A batch job (docs/admin/jobs.md): its command (the entrypoint runs it as the user instead of
   * sshd), an init that forwards signals, no restart, and its output kept to about `logBytes`.
   */
  job?: {command: string[]; logBytes: number};
}

export interface ContainerSummary {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** Docker's state word: created, running, exited, ... (Swarm mode: its task's state). */
  state: string;
  /** Swarm mode: why its task does not run (cannot be placed, failed), in the engine's words. */
  problem?: string;
  /** Its address on each network it is attached to (network name → IP); absent in Swarm mode. */
  addresses?: Record<string, string>;
}

export interface ContainerState {
  running: boolean;
  exitCode: number;
  status: string;
  /** How often the restart policy restarted it: a crash loop shows here, not in `running`. */
  restartCount: number;
  /** Between two runs of a crash loop (its exit code is not reliable then). */
  restarting: boolean;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerFile {
  /** Absolute path in the container. */
  path: string;
  content: string;
  mode: number;
}

export type RemoveOutcome = 'removed' | 'absent';

export interface ContainerClient {
  /** Creates the container with its `files` in place, not started. */
  createContainer(spec: ContainerSpec): Promise<string>;
  /** Starts it; in Swarm mode, waits until Swarm has placed and started it (failing with its reason). */
  startContainer(id: string): Promise<void>;
  /**
   * Stops it and keeps it (its writable layer stays; `session stop`). Swarm mode: scales the
   * service to 0 (the task's layer does not survive). A container already stopped is success.
   */
  stopContainer(id: string, graceSeconds?: number): Promise<void>;
  /** Stops and removes; a container that is already gone counts as success. */
  removeContainer(idOrName: string): Promise<RemoveOutcome>;
  /** Containers (running or not) carrying every one of these `key=value` labels. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  inspectContainer(idOrName: string): Promise<ContainerState | undefined>;
  /** The environment the container was created with; undefined when it is gone. */
  containerEnv(idOrName: string): Promise<string[] | undefined>;
  /** The host PID of the container's main process; undefined when it is not running. */
  runningPid(idOrName: string): Promise<number | undefined>;
  logs(idOrName: string, options: {follow: boolean; tail?: number}): Promise<NodeJS.ReadableStream>;
}

/**
 * What reaches into a running or stopped container on this engine: a command, files, a snapshot.
 * Only an engine whose containers are on this host has it (not a Swarm cluster's services, whose
 * tasks may run on another node): a runtime without it leaves SessionRuntime.inContainer unset.
 */
export interface InContainerClient {
  /** Saves a stopped container's filesystem as an image tagged `reference`; returns the image ID. */
  commitContainer(id: string, reference: string): Promise<string>;
  /** Writes files into a container, owned by root; with none, it asks the engine nothing. */
  putFiles(id: string, files: ContainerFile[]): Promise<void>;
  exec(id: string, command: string[], stdin?: string): Promise<ExecResult>;
}
