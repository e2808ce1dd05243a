import type {GpuInventory} from '../gpu/inventory.js';
import {countersOf, heldDevices, type StateData} from '../state/state-data.js';

/**
 * The Prometheus text file for node_exporter's textfile collector (docs/admin/audit-and-metrics.md), built with
 * prom-client and written atomically (temp file + rename) so the collector never reads half a file.
 */
/** A user with a GPU-hour budget, and what they used of it in its window. */
export interface BudgetUse {
  user: string;
  used: number;
  budget: number;
}

export async function renderMetrics(
  state: StateData,
  inventory: GpuInventory | undefined,
  budgets: BudgetUse[] = [],
  /** Homes under a quota (docs/admin/disk-quotas.md): bytes used and the limit. */
  homes: Array<{user: string; used: number; limit: number | null}> = [],
): Promise<string> {
  // prom-client is CommonJS: its classes sit on the namespace or, once bundled, on `default`.
  const loaded = await import('prom-client');
  const {Registry, Gauge, Counter} =
    'Registry' in loaded && loaded.Registry
      ? loaded
      : (loaded as unknown as {default: typeof loaded}).default;
  const registry = new Registry();
  const sessions = new Gauge({
    name: 'sandman_sessions',
    help: 'Sessions by status',
    labelNames: ['status'],
    registers: [registry],
  });
  for (const status of ['creating', 'running', 'stopped', 'removing']) {
    sessions.set({status}, state.sessions.filter((session) => session.status === status).length);
  }
  const slices = new Gauge({
    name: 'sandman_gpu_slices',
    help: 'GPU slices (MIG devices, or whole GPUs as profile "gpu") by profile and state',
    labelNames: ['profile', 'state'],
    registers: [registry],
  });
  const held = heldDevices(state.sessions, state.jobs);
  const counts = new Map<string, {free: number; held: number}>();
  const count = (profile: string, isHeld: boolean) => {
    const entry = counts.get(profile) ?? {free: 0, held: 0};
    if (isHeld) entry.held++;
    else entry.free++;
    counts.set(profile, entry);
  };
  if (inventory) {
    for (const gpu of inventory.gpus) {
      if (gpu.mig) for (const device of gpu.migDevices) count(device.profile, held.has(device.uuid));
      else count('gpu', held.has(gpu.uuid));
    }
  } else {
    for (const session of state.sessions) if (session.gpu_uuid) count(session.mig_profile ?? 'gpu', true);
  }
  for (const [profile, {free, held: taken}] of counts) {
    slices.set({profile, state: 'free'}, free);
    slices.set({profile, state: 'held'}, taken);
  }
  // The queue (docs/admin/users-and-limits.md "Users and limits"): requests waiting, by what they wait for.
  const queue = new Gauge({
    name: 'sandman_queue_length',
    help: 'Queued session requests by what they wait for',
    labelNames: ['waiting_for'],
    registers: [registry],
  });
  for (const entry of state.queue ?? []) queue.inc({waiting_for: entry.waiting_for});
  // The reaper's last GPU sample of each running session (docs/admin/notifications-and-idleness.md "GPU idleness"), as a ratio.
  const sampled = state.sessions.filter((session) => session.status === 'running' && session.gpu_util);
  if (sampled.length > 0) {
    const utilization = new Gauge({
      name: 'sandman_session_gpu_utilization',
      help: "A running session's GPU device utilisation at the last reap (0-1; nvidia-smi or dcgm-exporter)",
      labelNames: ['session', 'user', 'gpu'],
      registers: [registry],
    });
    for (const session of sampled)
      utilization.set(
        {session: session.id, user: session.user, gpu: session.gpu_uuid ?? ''},
        session.gpu_util!.last / 100,
      );
  }
  // Batch jobs (docs/admin/jobs.md), by state: ended ones are those kept for jobRetention.
  const jobs = new Gauge({
    name: 'sandman_jobs',
    help: 'Batch jobs by state (ended ones while kept for jobRetention)',
    labelNames: ['state'],
    registers: [registry],
  });
  for (const jobState of ['queued', 'running', 'exited', 'timeout', 'cancelled', 'failed'])
    jobs.set({state: jobState}, (state.jobs ?? []).filter((job) => job.state === jobState).length);
  if (homes.length > 0) {
    const used = new Gauge({
      name: 'sandman_home_used_bytes',
      help: "Bytes a user's home holds, as its quota counts them",
      labelNames: ['user'],
      registers: [registry],
    });
    const limit = new Gauge({
      name: 'sandman_home_limit_bytes',
      help: "A user's home quota in bytes",
      labelNames: ['user'],
      registers: [registry],
    });
    for (const home of homes) {
      used.set({user: home.user}, home.used);
      if (home.limit !== null) limit.set({user: home.user}, home.limit);
    }
  }
  if (budgets.length > 0) {
    // In GPU-seconds: Prometheus wants base units (promtool refuses hours).
    const used = new Gauge({
      name: 'sandman_gpu_budget_used_seconds',
      help: "GPU-seconds a user used in their budget's window (GPU-hours x 3600)",
      labelNames: ['user'],
      registers: [registry],
    });
    const budget = new Gauge({
      name: 'sandman_gpu_budget_seconds',
      help: "A user's GPU-hour budget over its window, in GPU-seconds",
      labelNames: ['user'],
      registers: [registry],
    });
    for (const entry of budgets) {
      used.set({user: entry.user}, Math.round(entry.used * 3600));
      budget.set({user: entry.user}, entry.budget * 3600);
    }
  }
  const counters = countersOf(structuredClone(state));
  new Counter({name: 'sandman_sessions_created_total', help: 'Sessions created', registers: [registry]}).inc(
    counters.sessions_created_total,
  );
  new Counter({
    name: 'sandman_sessions_reaped_total',
    help: 'Sessions removed by reap',
    registers: [registry],
  }).inc(counters.sessions_reaped_total);
  new Counter({
    name: 'sandman_gpus_freed_by_stop_total',
    help: 'GPU devices given back by session stop (and the idle stop of reap)',
    registers: [registry],
  }).inc(counters.gpus_freed_by_stop_total ?? 0);
  new Gauge({
    name: 'sandman_last_reap_timestamp_seconds',
    help: 'When reap last ran (Unix time)',
    registers: [registry],
  }).set(counters.last_reap_at ? Date.parse(counters.last_reap_at) / 1000 : 0);
  new Gauge({
    name: 'sandman_last_reap_duration_seconds',
    help: 'How long the last reap took',
    registers: [registry],
  }).set(counters.last_reap_duration_seconds ?? 0);
  return registry.metrics();
}
