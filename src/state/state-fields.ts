/**
 * What each field of the state file means, once (docs/reference/state-file.md is made from this,
 * npm run docs). Each table is typed by its record's keys: a field added to, or taken from, a
 * record in state-data.ts is a compile error here until the table says what it is.
 */
import type {Counters, JobRecord, QueuedRequest, SessionRecord, StateData, UserRecord} from './state-data.js';

type Fields<T> = Record<keyof T, string>;

export const STATE_DATA_FIELDS: Fields<StateData> = {
  version: 'the file format version (src/state/migrations.ts upgrades older ones when the file is read)',
  sessions: 'every session, running, stopped or being made or removed (SessionRecord)',
  users: 'every user by login name: registered ones and those known only from sessions (UserRecord)',
  queue: 'creates and jobs waiting for a free device or slot, in the order they came (QueuedRequest)',
  counters: 'totals for the metrics file (Counters)',
  notices: 'the notices outbox: each event once, with its delivery to each channel',
  jobs: 'batch jobs: queued, running, and ended ones kept for jobRetention (JobRecord)',
};

export const SESSION_FIELDS: Fields<SessionRecord> = {
  id: 'the session ID (12 hex digits)',
  user: 'the login name it was made for',
  status: 'creating (reserved, container being made), running, stopped, or removing (being torn down)',
  container_id: "the container's ID; null until it is made",
  container_name: "the container's name",
  image: 'the image it was made from',
  ssh_port: "the host port its SSH listens on (the gateway's port when not published)",
  published: 'false: its port is not published and it is reached through the SSH gateway; absent: published',
  ssh_host: 'the host name users connect to',
  ssh_private_key_path: 'the private key sandman made, or null when the user brought her own public key',
  gpu_uuid: 'the GPU or MIG device it holds; null for none',
  gpu_index: "the GPU's index; null for none",
  mig_profile: 'the MIG profile of its device; null for a whole GPU or none',
  mig_created: 'sandman created the MIG device (dynamic mode) and destroys it with the session',
  mig_gpu_instance: 'GPU instance ID of a MIG device sandman created',
  mig_compute_instance: 'compute instance ID of a MIG device sandman created',
  uid: "the user's uid in the container",
  workspace: "the user's home directory on the host",
  created_at: 'when it was made (ISO 8601, UTC)',
  expires_at: 'when the reaper removes it',
  creator_pid: 'the process that reserved it, so the reaper can tell a crashed create from a slow one',
  warned_at: "when its user's terminals were told it is about to end (once)",
  last_active_at: 'the last time the reaper saw it active (kept when idleTimeout is set)',
  last_active_reason: 'what it saw then: ssh, cpu, gpu, or app (use through the proxy)',
  cpu_seconds: "the container's CPU seconds at the last reap",
  cpu_sampled_at: 'when they were read',
  cpu_pid: "the container's main process then",
  authorized_keys: 'the public keys that open it (extend rewrites their expiry)',
  gateway_key: "the SSH gateway's relay key line, kept beside the user's keys",
  stopped_at: 'when `session stop` stopped it',
  remaining_ms: 'how much of its TTL was left then (the clock pauses while stopped)',
  stopped_gpu: 'the device it had when it stopped, taken back at start when still free',
  gpu_hold_until: 'the stopped device is held for it until then',
  starter_pid: 'a `session start` in progress (its process)',
  start_image: 'the image a device change at start commits to',
  committed_image: 'the image made of the stopped container by a device change; its container runs from it',
  disk_warned: 'its user was told her home is nearly full',
  host_public_key: "its container's host public key, certified by the host CA",
  password_auth: 'password login was asked for (the password is never stored)',
  node: 'Swarm mode: the node it runs on',
  gpu_kind:
    'Swarm mode: the generic resource asked of Swarm (NVIDIA-MIG-<profile>, NVIDIA-GPU); null for none',
  keep_until: '`sandman keep`: no idle stop before this time',
  gpu_util: "the reaper's GPU utilisation samples: the last one, and the run under idleGpuThreshold it ends",
  last_extended_by: 'who last extended it (the audit actor)',
  self_token_hash: "SHA-256 of the session's in-session credential; null once it stopped",
};

export const USER_FIELDS: Fields<UserRecord> = {
  uid: 'her uid, stable across sessions',
  node: 'Swarm mode: the node holding her home volume',
  added_at: 'when `user add` registered her; absent for a user known only from sessions',
  group: 'her group (its limits apply to her)',
  keys: 'her public keys: each an authorized_keys line, its SHA256 fingerprint and when it was added',
  defaults: 'what a new session of hers gets when its create does not say: gpu, ttl, queue',
  limits:
    'her own limits, as given (userMaxSessions, allowedProfiles, userMaxTtl, gpuHourBudget, quota, idleGpuThreshold, idleGpuWindow, userMaxKeep, idleWarnBefore, userMaxJobs); each overrides the group’s and the setting',
  email: 'where her notices are mailed',
  webhook: 'where her notices are POSTed',
};

export const QUEUED_FIELDS: Fields<QueuedRequest> = {
  id: 'the ID the session (or job) gets when it starts',
  kind: '`job` for a batch job (its details are its JobRecord); absent for a session',
  user: 'whose request it is',
  queued_at: 'when it was queued',
  waiting_for: 'what it waits for, in words: `MIG 3g.20gb`, `a whole GPU`, `a session slot`',
  gpu_hours: "GPU-hours the user had used in her budget's window when it was queued: the start order",
  request: 'the create to run: gpu, ttl, env, authorized_keys, node, and start (a stopped session to start)',
};

export const JOB_FIELDS: Fields<JobRecord> = {
  id: 'the job ID (12 hex digits)',
  user: 'whose job it is',
  name: 'its name (`--name`), or null',
  state: 'queued, running, exited, timeout, cancelled or failed',
  command: 'the command and its arguments, as given after `--`',
  image: 'the image it runs in',
  env: 'KEY=VALUE as given with --env',
  workdir: 'its working directory, or null',
  gpu: 'what was asked for (a queued job picks its device when it starts)',
  ttl_ms: 'its longest run time, in milliseconds',
  uid: "its user's uid",
  workspace: "its user's home on the host",
  container_name: "its container's name",
  container_id: "its container's ID; null until it is made",
  gpu_uuid: 'the device it holds; null for none',
  gpu_index: "the GPU's index; null for none",
  mig_profile: 'the MIG profile of its device',
  mig_created: 'sandman created its MIG device and destroys it when the job ends',
  mig_gpu_instance: 'GPU instance ID of a MIG device sandman created',
  mig_compute_instance: 'compute instance ID of a MIG device sandman created',
  gpu_fraction: 'the share of a GPU it holds, for usage accounting; null without a GPU',
  submitted_at: 'when it was submitted',
  started_at: 'when it started; null while queued',
  ended_at: 'when it ended; null until then',
  expires_at: 'started_at plus its TTL: past it the reaper stops it (timeout)',
  exit_code: "its command's exit code; null until it exited",
  reason: 'why it ended, in words (failed to start: the error; cancelled: who)',
  creator_pid: 'the process that started it (a crash half-way is collected by the reaper)',
  stopping: 'a stop was asked for (cancelled or timeout): what it ends as once its container is gone',
};

export const COUNTER_FIELDS: Fields<Counters> = {
  sessions_created_total: 'sessions made',
  sessions_reaped_total: 'sessions the reaper removed',
  last_reap_at: 'when the last reap ran',
  last_reap_duration_seconds: 'how long it took',
  gpus_freed_by_stop_total: 'GPU devices a stop (by hand or for idleness) gave back',
};

/** The tables in the order the page shows them, each with the name the page gives it. */
export const STATE_TABLES: {name: string; where: string; fields: Record<string, string>}[] = [
  {name: 'StateData', where: 'the top level of the file', fields: STATE_DATA_FIELDS},
  {name: 'SessionRecord', where: 'each entry of `sessions`', fields: SESSION_FIELDS},
  {name: 'UserRecord', where: 'each value of `users`', fields: USER_FIELDS},
  {name: 'QueuedRequest', where: 'each entry of `queue`', fields: QUEUED_FIELDS},
  {name: 'JobRecord', where: 'each entry of `jobs`', fields: JOB_FIELDS},
  {name: 'Counters', where: '`counters`', fields: COUNTER_FIELDS},
];
