import type {GpuChoice} from '../gpu/gpu-allocator.js';

/** The state file's schema (docs/reference/state-file.md). Field names are snake_case so `jq` users see the API's names. */

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
   * `session stop` (docs/admin/sessions.md "Stop and start"): when it stopped, and how much of its TTL was left
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
  /** The reaper told it its home is nearly full (docs/admin/disk-quotas.md). */
  disk_warned?: boolean;
  /** The session container's host public key, certified by the host CA (renewed by `extend`). */
  host_public_key?: string | null;
  /** Password login was asked for (the password itself is never stored). */
  password_auth?: boolean;
  /** Swarm mode: the node the session runs on (its host name). */
  node?: string | null;
  /** Swarm mode: the generic resource kind asked of Swarm (NVIDIA-MIG-<profile>, NVIDIA-GPU); null for none. */
  gpu_kind?: string | null;
  /** `sandman keep`: no idle stop before this time (docs/admin/sessions.md "The in-session command"). */
  keep_until?: string | null;
  /** The reaper's GPU utilisation samples, kept compactly (docs/admin/notifications-and-idleness.md "GPU idleness"; src/reap/gpu-idle.ts). */
  gpu_util?: GpuUtilTrack | null;
  /** Who last extended it (the audit actor, e.g. `alice (session 5302066654b2)`). */
  last_extended_by?: string | null;
  /** SHA-256 (hex) of the session's in-session credential; null once it stopped (docs/admin/sessions.md "The in-session command"). */
  self_token_hash?: string | null;
}

/**
 * A session device's utilisation as the reaps saw it: the last sample, and the run of samples under
 * idleGpuThreshold it ends (when it began, its highest). A sample at or over the threshold ends the run.
 */
export interface GpuUtilTrack {
  /** Percent, and when it was read. */
  last: number;
  at: string;
  /** nvidia-smi (a whole GPU) or dcgm (a MIG device, from dcgm-exporter). */
  source: 'nvidia-smi' | 'dcgm';
  /** The first sample of the current run under the threshold; null when the last one was not under it. */
  below_since: string | null;
  /** The highest sample of that run. */
  below_max: number | null;
  /** The last reap that saw an SSH connection into the session. */
  ssh_at?: string | null;
  /** The container's main process then: a session started again begins a new run. */
  pid?: number | null;
}

/**
 * A person. Every user sessions were made for has a uid here (stable across sessions); `user add`
 * makes them a registered user (docs/admin/users-and-limits.md "Users and limits"): public keys (never a private one), a
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
  /** Where her notices are mailed (`user set --email`, docs/admin/notifications-and-idleness.md "Notifications"). */
  email?: string | null;
  /** Her webhook: her notices are POSTed to it (`user set --webhook`). */
  webhook?: string | null;
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
  /** docs/admin/notifications-and-idleness.md "GPU idleness": percent, and a duration as given (`1h`, `0`: off). */
  idleGpuThreshold?: number;
  idleGpuWindow?: string;
  /** Longest `sandman keep` as given (`8h`, `0`: not allowed). */
  userMaxKeep?: string;
  /** How long ahead an idle stop is told, as given (`1h`, `0`: not told; docs/admin/notifications-and-idleness.md "Notifications"). */
  idleWarnBefore?: string;
  /** Batch jobs running at once (docs/admin/jobs.md). */
  userMaxJobs?: number;
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
 * A create that found nothing of its kind free and asked to wait (`--queue`, docs/admin/users-and-limits.md "Users and limits": the queue). Whichever sandman process frees capacity starts it as an ordinary session
 * with this ID; the reaper's minute is the backstop and ends it after queueTimeout.
 */
export interface QueuedRequest {
  id: string;
  /** `job`: a batch job waiting in the same line (docs/admin/jobs.md); its details are its JobRecord. */
  kind?: 'job';
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
  /** The notices outbox (docs/admin/notifications-and-idleness.md "Notifications"): each event once, delivered after the lock. */
  notices?: NoticeRecord[];
  /** Batch jobs (docs/admin/jobs.md): queued, running, and ended ones kept for jobRetention. */
  jobs?: JobRecord[];
}

export function emptyState(): StateData {
  return {version: STATE_VERSION, sessions: [], users: {}};
}

/** The GPU and MIG device UUIDs that sessions (and, given, running jobs) hold right now. */
export function heldDevices(
  sessions: readonly Pick<SessionRecord, 'gpu_uuid'>[],
  jobs: readonly JobRecord[] = [],
): Set<string> {
  return new Set(
    [...sessions, ...jobs.filter((job) => job.state === 'running')].flatMap((holder) =>
      holder.gpu_uuid ? [holder.gpu_uuid] : [],
    ),
  );
}

/** queued: in the sessions' line; running: reserved or started; the others ended (docs/admin/jobs.md). */
export type JobState = 'queued' | 'running' | 'exited' | 'timeout' | 'cancelled' | 'failed';

/** A batch job (`sandman job submit`): one command in a container of its own, as its user. */
export interface JobRecord {
  id: string;
  user: string;
  name: string | null;
  state: JobState;
  /** The command and its arguments, as given after `--`. */
  command: string[];
  image: string;
  /** KEY=VALUE as given with --env. */
  env: string[];
  workdir: string | null;
  /** What was asked for (a queued job picks its device when it starts). */
  gpu: GpuChoice;
  /** Longest run time, milliseconds. */
  ttl_ms: number;
  uid: number | null;
  workspace: string | null;
  container_name: string;
  container_id: string | null;
  gpu_uuid: string | null;
  gpu_index: number | null;
  mig_profile: string | null;
  mig_created: boolean;
  mig_gpu_instance: number | null;
  mig_compute_instance: number | null;
  /** Share of a GPU it holds (usage accounting); null without a GPU. */
  gpu_fraction: number | null;
  submitted_at: string;
  started_at: string | null;
  ended_at: string | null;
  /** started_at + ttl: past it the reaper stops the job (timeout). */
  expires_at: string | null;
  exit_code: number | null;
  /** Why it ended, in words (failed to start: the error; cancelled: who). */
  reason: string | null;
  /** The process that started it (a crash half-way is collected by the reaper). */
  creator_pid: number | null;
  /** A stop was asked for (cancel, TTL): what it ends as once the container is gone. */
  stopping?: 'cancelled' | 'timeout' | null;
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

/** A notice's event (docs/admin/notifications-and-idleness.md "Notifications": the events). */
export type NoticeEvent =
  | 'expiry-ahead'
  | 'idle-stop-ahead'
  | 'idle-stopped'
  | 'idle-removed'
  | 'expired-removed'
  | 'queue-started'
  | 'budget-80'
  | 'budget-100'
  | 'disk-90'
  | 'job-finished'
  | 'job-failed'
  | 'job-timeout'
  | 'job-started'
  | 'test';

/** Where a notice goes: her terminals, her e-mail, her webhook, the admin's webhook. */
export type NoticeChannel = 'terminal' | 'email' | 'webhook' | 'admin-webhook';

/**
 * One event, recorded once (by its key) under the state lock by whichever process saw it, and
 * delivered on each of its channels after the lock is released (src/notify/).
 */
export interface NoticeRecord {
  /** What makes it one event: `expiry-ahead:<session>:<expires_at>`. */
  key: string;
  event: NoticeEvent;
  user: string;
  session?: string | null;
  job?: string | null;
  /** One line a person reads (the webhook's and Slack's `text`, the mail's body). */
  text: string;
  data: Record<string, unknown>;
  at: string;
  deliveries: Partial<Record<NoticeChannel, NoticeDelivery>>;
}

export interface NoticeDelivery {
  attempts: number;
  delivered_at?: string | null;
  /** A process is delivering it until then; another one leaves it alone. */
  sending_until?: string | null;
  last_error?: string | null;
  /** Retries ran out (attempts or age): it is not tried again. */
  gave_up_at?: string | null;
}
