/**
 * What the reaper reads and tells in running sessions (docs/admin/reaper.md "The reaper"): which are idle, whose
 * home is nearly full, whose terminals must hear that the session ends soon.
 */
import type {ActivityReason} from './activity.js';
import {isoSeconds} from '../core/clock.js';
import {formatDuration} from '../core/duration.js';
import {diskText, NEARLY_FULL} from '../homes/disk-text.js';
import type {SessionRecord, StateData} from '../state/state-data.js';
import {effectiveLimits} from '../users/user-limits.js';
import type {ReapTarget} from './reap-plan.js';
import {sessionItem, type ReapItem, type ReaperDeps} from './reap-types.js';
import {writeToTerminals} from './terminals.js';

/** Where a nearly-full home's warning goes in its container (images/workspace/entrypoint.sh). */
const DISK_WARNING = '/etc/sandman/disk-warning';

/**
 * Sessions idle for idleTimeout: no SSH connection, CPU use under idleCpuThreshold since the
 * previous reap, no GPU compute process (docs/admin/reaper.md "The reaper"). A training job left running under
 * nohup keeps its session; so does a CUDA process. What was seen is recorded with when.
 */
export async function idleTargets(
  deps: ReaperDeps,
  running: SessionRecord[],
  now: number,
  dryRun: boolean,
): Promise<ReapTarget[]> {
  const {idleTimeout, idleCpuThreshold} = deps.config;
  const gpuPids = running.length > 0 ? await deps.gpuProcesses().catch(() => []) : [];
  const targets: ReapTarget[] = [];
  const seen = new Map<string, Partial<SessionRecord>>();
  for (const session of running) {
    if (!session.container_id) continue;
    const pid = await deps.docker.runningPid(session.container_id).catch(() => undefined);
    if (pid === undefined) continue;
    const sample: Partial<SessionRecord> = {};
    let reason: ActivityReason | undefined;
    if ((await deps.sshConnections.count(pid).catch(() => 0)) > 0) reason = 'ssh';
    const cpu = await deps.activity.cpuSeconds(pid).catch(() => undefined);
    // CPU use is judged between two samples of one run of the container. The first sample of a
    // run (a new session, or one started again, whose counter starts from 0) only sets the
    // baseline and no verdict of idle is given on it: the run's start-up (entrypoint and sshd,
    // 0.2-0.4 s of CPU) is no activity of its user, and counted against a few seconds it was.
    let baselineOnly = false;
    if (cpu !== undefined) {
      if (session.cpu_sampled_at && session.cpu_pid === pid) {
        const since = Date.parse(session.cpu_sampled_at);
        const used = cpu - (session.cpu_seconds ?? 0);
        const percent = now > since ? (used / ((now - since) / 1000)) * 100 : 0;
        if (!reason && percent > idleCpuThreshold) reason = 'cpu';
      } else baselineOnly = true;
      Object.assign(sample, {cpu_seconds: cpu, cpu_sampled_at: isoSeconds(new Date(now)), cpu_pid: pid});
    }
    if (!reason) {
      for (const gpuPid of gpuPids) {
        if (await deps.activity.inContainer(gpuPid, session.container_id)) {
          reason = 'gpu';
          break;
        }
      }
    }
    if (reason)
      Object.assign(sample, {last_active_at: isoSeconds(new Date(now)), last_active_reason: reason});
    else if (
      !baselineOnly &&
      !keptAt(session, now) &&
      now - Date.parse(session.last_active_at ?? session.created_at) >= idleTimeout!
    )
      targets.push({reason: 'idle', session});
    seen.set(session.id, sample);
  }
  if (seen.size > 0 && !dryRun) {
    await deps.store.update((state) => {
      for (const record of state.sessions) Object.assign(record, seen.get(record.id) ?? {});
    });
  }
  return targets;
}

/** `sandman keep` (docs/admin/sessions.md "The in-session command"): no idle stop before keep_until; expiry still applies. */
export function keptAt(session: Pick<SessionRecord, 'keep_until'>, now: number): boolean {
  return !!session.keep_until && Date.parse(session.keep_until) > now;
}

/**
 * Homes nearly full under their quota (docs/admin/disk-quotas.md): the session gets a warning its
 * login shells print, written when its home reaches 90 % and taken away below it.
 */
export async function diskWarnings(
  deps: ReaperDeps,
  running: SessionRecord[],
  state: StateData,
  dryRun: boolean,
): Promise<ReapItem[]> {
  const {users, config, inContainer} = deps;
  if (!users || dryRun || !inContainer) return [];
  const items: ReapItem[] = [];
  for (const session of running) {
    // Only homes under a quota are looked at: nothing to read (nor to load) for the others.
    if (!session.container_id) continue;
    if (effectiveLimits(config, session.user, state.users[session.user]).quota.value === undefined) continue;
    const disk = await users.disk(session.user).catch(() => undefined);
    if (!disk || disk.limit === null) continue;
    const full = disk.used >= disk.limit * NEARLY_FULL;
    if (full === !!session.disk_warned) continue;
    const text = full
      ? `*** sandman: your home is ${Math.round((disk.used / disk.limit) * 100)} % full: ${diskText(disk)}. ` +
        'Writes stop at the limit: remove what you do not need. ***\n'
      : '';
    try {
      await inContainer.putFiles(session.container_id, [{path: DISK_WARNING, content: text, mode: 0o644}]);
      await deps.store.update((state) => {
        const record = state.sessions.find((candidate) => candidate.id === session.id);
        if (record) record.disk_warned = full;
      });
      if (full) items.push({...sessionItem('warn', 'disk', session, dryRun), detail: diskText(disk)});
    } catch (error) {
      items.push({
        ...sessionItem('warn', 'disk', session, dryRun),
        result: 'failed',
        error: (error as Error).message,
      });
    }
  }
  return items;
}

/** Tells the user's open terminals, once, that the session ends soon. */
export async function expiryWarnings(
  deps: ReaperDeps,
  running: SessionRecord[],
  now: number,
  dryRun: boolean,
): Promise<ReapItem[]> {
  const {warnBefore} = deps.config;
  const {inContainer} = deps;
  // Terminals on other nodes are out of this host's reach (docs/admin/swarm.md).
  if (!inContainer) return [];
  const due = running.filter((session) => {
    const left = Date.parse(session.expires_at) - now;
    return !session.warned_at && left > 0 && left <= warnBefore && session.container_id;
  });
  const items: ReapItem[] = [];
  for (const session of due) {
    const item = sessionItem('warn', 'expiring', session, dryRun);
    items.push(item);
    if (dryRun) continue;
    const left = formatDuration(Date.parse(session.expires_at) - now);
    const message =
      `\r\n*** sandman: this session (${session.id}) ends in ${left}, at ${session.expires_at.replace('T', ' ').replace('Z', ' UTC')}. ` +
      'Save your work: files in your home directory are kept, everything else is removed. ***\r\n';
    try {
      await writeToTerminals(inContainer, session.container_id!, message);
      await deps.store.update((state) => {
        const record = state.sessions.find((candidate) => candidate.id === session.id);
        if (record) record.warned_at = isoSeconds(new Date(now));
      });
    } catch (error) {
      Object.assign(item, {result: 'failed', error: (error as Error).message});
    }
  }
  return items;
}
