import type {GpuChoice} from '../gpu/gpu-allocator.js';

/** The state file's schema (README "Configuration": the state file). Field names are snake_case so `jq` users see the API's names. */

/** The state file's version (src/state/migrations.ts reads every earlier one). */
export const STATE_VERSION = 2;

/** creating: reserved, container being made; running: ready; removing: the reaper is tearing it down. */
export type SessionStatus = 'creating' | 'running' | 'stopped' | 'removing';

export interface SessionRecord {
  id: string;
  user: string;
  status: SessionStatus;
  container_id: string | null;
  container_name: string;
  image: string;
  ssh_port: number;
  /**
   * false: the session's port is not published (directPorts off); it is reached through the SSH
   * gateway, whose port ssh_port then holds. Absent: published.
   */
  published?: boolean;
  ssh_host: string;
  /** Path of the private key sandman made, or null when the user brought their own public key. */
  ssh_private_key_path: string | null;
  gpu_uuid: string | null;
  gpu_index: number | null;
  mig_profile: string | null;
  /** True when sandman created the MIG device for this session (dynamic mode) and must destroy it. */
  mig_created: boolean;
  /** GPU/compute instance IDs of a MIG device sandman created, for destroying exactly that one. */
  mig_gpu_instance: number | null;
  mig_compute_instance: number | null;
  uid: number;
  workspace: string;
  created_at: string;
  expires_at: string;
  /** The process that reserved this record; lets the reaper tell a crashed create from a slow one. */
  creator_pid: number;
  /** When the reaper told the user's terminals the session is about to end (once per session). */
  warned_at?: string | null;
  /** Last time the reaper saw the session active (only kept when idleTimeout is set)… */
  last_active_at?: string | null;
  /** …and what it saw: an SSH connection, CPU use above idleCpuThreshold, a GPU compute process, use of an app through the proxy. */
  last_active_reason?: 'ssh' | 'cpu' | 'gpu' | 'app' | null;
  /**
   * The container's CPU seconds at the last reap, when, and its main process then: the next reap's
   * CPU use is the difference while that process runs (a container started again counts from 0).
   */
  cpu_seconds?: number | null;
  cpu_sampled_at?: string | null;
  cpu_pid?: number | null;
  /**
   * The public keys that open the session (no expiry options): what `extend` rewrites with a new
   * expiry and what a container made again after a reboot is given. Absent in older records.
   */
  authorized_keys?: string;
  /**
   * The authorized_keys line that lets the SSH gateway in (its relay key, from its own address);
   * kept beside the user's keys so extend and a re-made container write it again. Absent in
   * records from before the gateway: extend adds it.
   */
  gateway_key?: string;
  /**
   * `session stop` (README "Stop and start"): when it stopped, and how much of its TTL was left
   * then (the clock pauses while stopped; `start` gives it back).
   */
  stopped_at?: string | null;
  remaining_ms?: number | null;
  /**
   * The device the session had when it stopped: `start` gets it back when it is still free. The
   * device itself stays in gpu_uuid (held) until gpu_hold_until, then is freed.
   */
  stopped_gpu?: StoppedGpu | null;
  gpu_hold_until?: string | null;
  /** A `session start` in progress (its process), and the image a device change commits to. */
  starter_pid?: number | null;
  start_image?: string | null;
  /** The image a device change made of the stopped container; the session's container runs from it. */
  committed_image?: string | null;
  /** The reaper told it its home is nearly full (README "Disk quotas"). */
  disk_warned?: boolean;
  /** The session container's host public key, certified by the host CA (renewed by `extend`). */
  host_public_key?: string | null;
  /** Password login was asked for (the password itself is never stored). */
  password_auth?: boolean;
  /** Swarm mode: the node the session runs on (its host name). */
  node?: string | null;
  /** Swarm mode: the generic resource kind asked of Swarm (NVIDIA-MIG-<profile>, NVIDIA-GPU); null for none. */
  gpu_kind?: string | null;
}

/**
 * A person. Every user sessions were made for has a uid here (stable across sessions); `user add`
 * makes them a registered user (README "Users and limits"): public keys (never a private one), a
 * group, defaults for new sessions and limits of their own.
 */
export interface UserRecord {
  uid: number;
  /** Swarm mode: the node holding the user's home volume; every session of theirs runs there. */
  node?: string;
  /** When `user add` registered them; absent for a user known only from sessions. */
  added_at?: string;
  group?: string | null;
  keys?: UserKey[];
  /** What a new session gets when its create does not say (`--profile`/`--gpu any`/`--no-gpu`, `--ttl`). */
  defaults?: {gpu?: UserGpuDefault; ttl?: string; queue?: boolean};
  /** The user's own limits, as given (`2d`, `40h/7d`); each overrides the group's and the setting's. */
  limits?: UserLimits;
}

export interface StoppedGpu {
  gpu_uuid: string;
  gpu_index: number | null;
  mig_profile: string | null;
}

export type UserGpuDefault = {kind: 'profile'; profile: string} | {kind: 'gpu'; ref: 'any'} | {kind: 'none'};

export interface UserLimits {
  userMaxSessions?: number;
  allowedProfiles?: string[];
  userMaxTtl?: string;
  gpuHourBudget?: string;
  /** The home's disk limit as given (`50g`). */
  quota?: string;
}

export interface UserKey {
  /** One authorized_keys line, as OpenSSH writes it (type, key, comment). */
  line: string;
  /** `SHA256:…`, as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  added_at: string;
}

export interface Counters {
  sessions_created_total: number;
  sessions_reaped_total: number;
  /** ISO time and length of the last reap run, for the metrics file. */
  last_reap_at: string | null;
  last_reap_duration_seconds: number | null;
  /** GPU devices `session stop` (or the reaper's idle stop) gave back. */
  gpus_freed_by_stop_total?: number;
}

/**
 * A create that found nothing of its kind free and asked to wait (`--queue`, README "Users and
 * limits": the queue). Whichever sandman process frees capacity starts it as an ordinary session
 * with this ID; the reaper's minute is the backstop and ends it after queueTimeout.
 */
export interface QueuedRequest {
  id: string;
  user: string;
  queued_at: string;
  /** What it waits for, in words: `MIG 3g.20gb`, `a whole GPU`, `a session slot`. */
  waiting_for: string;
  /** GPU-hours the user had used in their budget window (7 days without one) when it was queued: the order. */
  gpu_hours: number;
  /** The create to run: everything but a password (printed once, it cannot wait). */
  request: {
    gpu: GpuChoice;
    ttl?: string;
    env: string[];
    /** Public keys given with --ssh-key (registered keys are read again at the start). */
    authorized_keys?: string;
    node?: string;
    /** `session start --queue`: the stopped session to start (the request's ID is its ID). */
    start?: string;
  };
}

export interface StateData {
  version: typeof STATE_VERSION;
  sessions: SessionRecord[];
  users: Record<string, UserRecord>;
  /** Queued creates, in the order they came (the start order is by GPU-hours first). */
  queue?: QueuedRequest[];
  counters?: Counters;
}

export function emptyState(): StateData {
  return {version: STATE_VERSION, sessions: [], users: {}};
}

/** The GPU and MIG device UUIDs that sessions hold right now. */
export function heldDevices(sessions: readonly SessionRecord[]): Set<string> {
  return new Set(sessions.flatMap((session) => (session.gpu_uuid ? [session.gpu_uuid] : [])));
}

export function countersOf(state: StateData): Counters {
  state.counters ??= {
    sessions_created_total: 0,
    sessions_reaped_total: 0,
    last_reap_at: null,
    last_reap_duration_seconds: null,
  };
  state.counters.gpus_freed_by_stop_total ??= 0;
  return state.counters;
}
