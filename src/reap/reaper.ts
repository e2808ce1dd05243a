import type {ActivityReason, ContainerActivity} from './activity.js';
import type {AuditLog} from '../audit/audit-log.js';
import {isoSeconds, type Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import type {ContainerClient} from '../runtime/docker/container-client.js';
import {formatDuration} from '../core/duration.js';
import {LABELS} from '../core/labels.js';
import {effectiveLimits} from '../users/user-limits.js';
import {diskText, NEARLY_FULL} from '../homes/disk-text.js';
import type {HomeDisk} from '../homes/home-quotas.js';

/** Where a nearly-full home's warning goes in its container (images/workspace/entrypoint.sh). */
const DISK_WARNING = '/etc/sandman/disk-warning';
import type {Locks} from '../state/locks.js';
import type {NetworkBoundary} from '../network/network-boundary.js';
import type {Processes} from '../host/processes.js';
import type {SessionService} from '../session/session-service.js';
import {countersOf, type SessionRecord, type StateData} from '../state/state-data.js';
import type {SshConnections} from '../ssh/ssh-connections.js';
import type {StateStore} from '../state/state-store.js';
import type {Warn} from '../core/warn.js';
import {planReap, stoppedFor, type ReapReason, type ReapTarget} from './reap-plan.js';

export interface ReapItem {
  action:
    | 'remove-session'
    | 'remove-container'
    | 'warn'
    | 'resume-session'
    | 'restore-firewall'
    | 'report'
    | 'end-queued'
    | 'start-queued'
    | 'stop-session'
    | 'tidy-stopped';
  reason: ReapReason | 'expiring' | 'firewall' | 'not-running' | 'queue-timeout' | 'capacity' | 'disk';
  session_id: string | null;
  user: string | null;
  container: string | null;
  /** done, would (dry run), skipped (changed meanwhile), failed */
  result: 'done' | 'would' | 'skipped' | 'failed';
  error?: string;
  /** What resuming did: started again, moved to another device, or ended (and why). */
  detail?: string;
}

export interface ReapReport {
  dry_run: boolean;
  /** Set when another reap held the reap lock: this run did nothing. */
  skipped?: string;
  items: ReapItem[];
  failed: number;
  duration_ms: number;
}

export interface ReaperDeps {
  /** Homes under a quota (README "Disk quotas"); absent: no disk warnings. */
  users?: {disk(user: string): Promise<HomeDisk | undefined>};
  config: Config;
  store: StateStore;
  docker: ContainerClient;
  /**
   * Reaches into session containers (the terminals' warnings); absent where they may be on other
   * nodes, out of this host's reach (README "Swarm mode").
   */
  inContainer?: Pick<ContainerClient, 'exec' | 'putFiles'>;
  /** Loaded only when something has to be torn down. */
  sessions: () => Promise<SessionService>;
  clock: Clock;
  locks: Locks;
  processes: Processes;
  sshConnections: SshConnections;
  activity: ContainerActivity;
  /** Host PIDs of GPU compute processes (nvidia-smi); none on a host without it. */
  gpuProcesses: () => Promise<number[]>;
  warn: Warn;
  /** This setup's instance label (StateDir.instance). */
  instance: string;
  /** Restores the network policy after a reboot or a firewall reload (README "Network boundary"). */
  networkBoundary: Pick<NetworkBoundary, 'ensure' | 'status'>;
  audit?: AuditLog;
  afterChange?: () => Promise<void>;
  progress?: (text: string) => void;
}

/** A report line about one session. */
function sessionItem(
  action: ReapItem['action'],
  reason: ReapItem['reason'],
  session: SessionRecord,
  dryRun: boolean,
): ReapItem {
  return {
    action,
    reason,
    session_id: session.id,
    user: session.user,
    container: session.container_name,
    result: dryRun ? 'would' : 'done',
  };
}

/** How many teardowns run at once: Docker removes containers in parallel well. */
const PARALLEL = 8;

/**
 * `sandman reap` (README "The reaper"). One reaper at a time holds `<stateDir>/reap.lock`; a second
 * one started meanwhile does nothing, so two reaps never act twice on the same item.
 */
export class Reaper {
  constructor(private readonly deps: ReaperDeps) {}

  async run(options: {dryRun: boolean}): Promise<ReapReport> {
    const started = this.deps.clock.now().getTime();
    const elapsed = () => this.deps.clock.now().getTime() - started;
    const release = await this.deps.locks.tryLock('reap');
    if (!release) {
      return {
        dry_run: options.dryRun,
        skipped: 'another sandman reap is running',
        items: [],
        failed: 0,
        duration_ms: elapsed(),
      };
    }
    try {
      const items = await this.#reap(options.dryRun);
      const report: ReapReport = {
        dry_run: options.dryRun,
        items,
        failed: items.filter((item) => item.result === 'failed').length,
        duration_ms: elapsed(),
      };
      if (!options.dryRun) await this.#finish(report);
      return report;
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * One expired session a run has not reached yet, removed as a run would remove it: claimed under
   * the state lock (an extend that won keeps it: result skipped), torn down, counted and audited.
   * The SSH gateway calls this when the user connects (README "The SSH gateway").
   */
  async removeExpired(session: SessionRecord): Promise<ReapItem> {
    const item = await this.#handle({reason: 'expired', session}, false, this.deps.clock.now().getTime());
    await this.#record([item]);
    return item;
  }

  async #reap(dryRun: boolean): Promise<ReapItem[]> {
    const {docker, store, clock, config} = this.deps;
    // Containers first, then the state: see planReap.
    const containers = await docker.listContainers({[LABELS.instance]: this.deps.instance});
    const state = await store.read();
    const now = clock.now().getTime();
    const targets = planReap({
      sessions: state.sessions,
      containers,
      now,
      isAlive: (pid) => this.deps.processes.alive(pid),
      stoppedRetentionMs: config.stoppedRetention,
    });
    const taken = new Set(targets.flatMap((target) => (target.session ? [target.session.id] : [])));
    const running = state.sessions.filter(
      (session) => session.status === 'running' && !taken.has(session.id),
    );

    if (config.idleTimeout !== undefined) targets.push(...(await this.#idle(running, now, dryRun)));
    const items: ReapItem[] = [await this.#firewall(dryRun)].filter((item): item is ReapItem => !!item);
    items.push(...(await this.#tidyStopped(state.sessions, taken, now, dryRun)));
    if (targets.length > 0) this.deps.progress?.(`Reaping ${targets.length} item(s)`);
    for (let index = 0; index < targets.length; index += PARALLEL) {
      const batch = targets.slice(index, index + PARALLEL);
      items.push(...(await Promise.all(batch.map((target) => this.#handle(target, dryRun, now)))));
    }
    // Swarm mode: a session whose task cannot be placed or keeps failing, in the engine's words
    // (Swarm retries on its own; nothing for the reaper to do but say so).
    for (const container of containers) {
      const session = running.find((candidate) => candidate.id === container.labels[LABELS.session]);
      if (container.problem && session)
        items.push({
          ...sessionItem('report', 'not-running', session, dryRun),
          result: 'skipped',
          detail: `task ${container.state}: ${container.problem}`,
        });
    }
    const idleTaken = new Set(items.flatMap((item) => (item.session_id ? [item.session_id] : [])));
    items.push(
      ...(await this.#warn(
        running.filter((session) => !idleTaken.has(session.id)),
        now,
        dryRun,
      )),
    );
    items.push(...(await this.#queue(state.queue?.length ?? 0, dryRun)));
    items.push(...(await this.#diskWarnings(running, state, dryRun)));
    return items;
  }

  /**
   * The queue's backstop (README "Users and limits"): requests older than queueTimeout end, and
   * whatever can start now starts (rm and failed creates start them at once; this catches the rest).
   */
  async #queue(waiting: number, dryRun: boolean): Promise<ReapItem[]> {
    if (waiting === 0) return [];
    const service = await this.deps.sessions();
    const item = (
      action: ReapItem['action'],
      reason: ReapItem['reason'],
      id: string,
      user: string | null,
    ): ReapItem => ({
      action,
      reason,
      session_id: id,
      user,
      container: null,
      result: dryRun ? 'would' : 'done',
    });
    const ended = (await service.queue.expire(dryRun)).map((entry) =>
      item('end-queued', 'queue-timeout', entry.id, entry.user),
    );
    if (dryRun) return ended;
    const started = await service.queue.drain();
    return [...ended, ...started.map((id) => item('start-queued', 'capacity', id, null))];
  }

  async #handle(target: ReapTarget, dryRun: boolean, now: number): Promise<ReapItem> {
    if (target.container) {
      const item: ReapItem = {
        action: 'remove-container',
        reason: 'orphan',
        session_id: target.container.labels[LABELS.session] ?? null,
        user: target.container.labels[LABELS.user] ?? null,
        container: target.container.name,
        result: dryRun ? 'would' : 'done',
      };
      if (!dryRun) {
        try {
          await this.deps.docker.removeContainer(target.container.id);
        } catch (error) {
          Object.assign(item, {result: 'failed', error: (error as Error).message});
        }
      }
      return item;
    }
    const session = target.session!;
    if (target.reason === 'stopped') return this.#resume(session, dryRun);
    if (target.reason === 'idle' && this.deps.config.idleAction === 'stop')
      return this.#stopIdle(session, dryRun);
    const item = sessionItem('remove-session', target.reason, session, dryRun);
    if (dryRun) return item;
    try {
      if (target.reason === 'dangling' && (await this.deps.docker.inspectContainer(session.container_id!))) {
        // It was only missing from the list because it was created after the list was taken.
        return {...item, result: 'skipped'};
      }
      const claimed = await this.#claim(session, target.reason, now);
      if (!claimed) return {...item, result: 'skipped'};
      await (await this.deps.sessions()).teardown(claimed);
    } catch (error) {
      return {...item, result: 'failed', error: (error as Error).message};
    }
    return item;
  }

  /** Rules missing after a reboot or a firewall reload are written again before anything else. */
  async #firewall(dryRun: boolean): Promise<ReapItem | undefined> {
    const item: ReapItem = {
      action: 'restore-firewall',
      reason: 'firewall',
      session_id: null,
      user: null,
      container: null,
      result: dryRun ? 'would' : 'done',
    };
    try {
      const broken = dryRun
        ? (await this.deps.networkBoundary.status()).rules.filter((rule) => rule.status !== 'ok')
        : await this.deps.networkBoundary.ensure();
      if (broken.length === 0) return undefined;
      // IPv4 and IPv6 each have a rule of the same name: each name once, with the families it had.
      const families = new Map<string, number[]>();
      for (const rule of broken) families.set(rule.name, [...(families.get(rule.name) ?? []), rule.family]);
      const names = [...families].map(([name, list]) => `${name} (IPv${list.join('/IPv')})`);
      return {...item, detail: `${broken.length} rule(s): ${names.join(', ')}`};
    } catch (error) {
      return {...item, result: 'failed', error: (error as Error).message};
    }
  }

  async #resume(session: SessionRecord, dryRun: boolean): Promise<ReapItem> {
    const item = sessionItem('resume-session', 'stopped', session, dryRun);
    if (dryRun) return item;
    try {
      const {outcome, detail} = await (await this.deps.sessions()).resume(session);
      return {...item, action: outcome === 'ended' ? 'remove-session' : 'resume-session', detail};
    } catch (error) {
      return {...item, result: 'failed', error: (error as Error).message};
    }
  }

  /** An idle session is stopped (idleAction stop): its GPU goes back, everything else stays. */
  async #stopIdle(session: SessionRecord, dryRun: boolean): Promise<ReapItem> {
    const item = sessionItem('stop-session', 'idle', session, dryRun);
    if (dryRun) return item;
    try {
      const stopped = await (await this.deps.sessions()).stop(session.id);
      return stopped.gpu_freed ? {...item, detail: `GPU ${stopped.gpu_freed} freed`} : item;
    } catch (error) {
      return {...item, result: 'failed', error: (error as Error).message};
    }
  }

  /**
   * Stopped sessions (README "Stop and start"): a device held past gpuHoldAfterStop goes back, and
   * what a start killed half-way left behind (a second container, an image, a device) goes.
   */
  async #tidyStopped(
    sessions: readonly SessionRecord[],
    taken: ReadonlySet<string>,
    now: number,
    dryRun: boolean,
  ): Promise<ReapItem[]> {
    const due = sessions.filter(
      (session) =>
        session.status === 'stopped' &&
        !taken.has(session.id) &&
        ((session.gpu_uuid && (!session.gpu_hold_until || Date.parse(session.gpu_hold_until) <= now)) ||
          (session.starter_pid && !this.deps.processes.alive(session.starter_pid))),
    );
    const items: ReapItem[] = [];
    for (const session of due) {
      const item = sessionItem('tidy-stopped', 'stopped', session, dryRun);
      if (dryRun) {
        items.push(item);
        continue;
      }
      try {
        const detail = await (await this.deps.sessions()).tidyStopped(session);
        if (detail) items.push({...item, detail});
      } catch (error) {
        items.push({...item, result: 'failed', error: (error as Error).message});
      }
    }
    return items;
  }

  /**
   * Re-checks the target under the lock and marks it "removing", so an `extend` racing the reaper
   * either wins (and the session stays) or is refused.
   */
  async #claim(session: SessionRecord, reason: ReapReason, now: number): Promise<SessionRecord | undefined> {
    return this.deps.store.update((state) => {
      const fresh = state.sessions.find((record) => record.id === session.id);
      if (!fresh) return undefined;
      const stillDue =
        fresh.status === 'removing' ||
        (reason === 'expired' && Date.parse(fresh.expires_at) <= now) ||
        (reason === 'stale' && fresh.status === 'creating') ||
        ((reason === 'dangling' || reason === 'idle') && fresh.status === 'running') ||
        (reason === 'dangling' && fresh.status === 'stopped') ||
        (reason === 'retention' && stoppedFor(fresh, now) >= this.deps.config.stoppedRetention);
      if (!stillDue) return undefined;
      fresh.status = 'removing';
      return {...fresh};
    });
  }

  /**
   * Sessions idle for idleTimeout: no SSH connection, CPU use under idleCpuThreshold since the
   * previous reap, no GPU compute process (README "The reaper"). A training job left running under
   * nohup keeps its session; so does a CUDA process. What was seen is recorded with when.
   */
  async #idle(running: SessionRecord[], now: number, dryRun: boolean): Promise<ReapTarget[]> {
    const {idleTimeout, idleCpuThreshold} = this.deps.config;
    const gpuPids = running.length > 0 ? await this.deps.gpuProcesses().catch(() => []) : [];
    const targets: ReapTarget[] = [];
    const seen = new Map<string, Partial<SessionRecord>>();
    for (const session of running) {
      if (!session.container_id) continue;
      const pid = await this.deps.docker.runningPid(session.container_id).catch(() => undefined);
      if (pid === undefined) continue;
      const sample: Partial<SessionRecord> = {};
      let reason: ActivityReason | undefined;
      if ((await this.deps.sshConnections.count(pid).catch(() => 0)) > 0) reason = 'ssh';
      const cpu = await this.deps.activity.cpuSeconds(pid).catch(() => undefined);
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
          if (await this.deps.activity.inContainer(gpuPid, session.container_id)) {
            reason = 'gpu';
            break;
          }
        }
      }
      if (reason)
        Object.assign(sample, {last_active_at: isoSeconds(new Date(now)), last_active_reason: reason});
      else if (
        !baselineOnly &&
        now - Date.parse(session.last_active_at ?? session.created_at) >= idleTimeout!
      )
        targets.push({reason: 'idle', session});
      seen.set(session.id, sample);
    }
    if (seen.size > 0 && !dryRun) {
      await this.deps.store.update((state) => {
        for (const record of state.sessions) Object.assign(record, seen.get(record.id) ?? {});
      });
    }
    return targets;
  }

  /** Tells the user's open terminals, once, that the session ends soon. */
  /**
   * Homes nearly full under their quota (README "Disk quotas"): the session gets a warning its
   * login shells print, written when its home reaches 90 % and taken away below it.
   */
  async #diskWarnings(running: SessionRecord[], state: StateData, dryRun: boolean): Promise<ReapItem[]> {
    const {users, config, inContainer} = this.deps;
    if (!users || dryRun || !inContainer) return [];
    const items: ReapItem[] = [];
    for (const session of running) {
      // Only homes under a quota are looked at: nothing to read (nor to load) for the others.
      if (!session.container_id) continue;
      if (effectiveLimits(config, session.user, state.users[session.user]).quota.value === undefined)
        continue;
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
        await this.deps.store.update((state) => {
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

  async #warn(running: SessionRecord[], now: number, dryRun: boolean): Promise<ReapItem[]> {
    const {warnBefore} = this.deps.config;
    const {inContainer} = this.deps;
    // Terminals on other nodes are out of this host's reach (README "Swarm mode").
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
        const result = await inContainer.exec(session.container_id!, [
          'sh',
          '-c',
          'for t in /dev/pts/[0-9]*; do [ -c "$t" ] && printf "%s" "$1" > "$t" 2>/dev/null; done; true',
          'sandman-warn',
          message,
        ]);
        if (result.exitCode !== 0) throw new Error(result.stderr.trim() || `exit ${result.exitCode}`);
        await this.deps.store.update((state) => {
          const record = state.sessions.find((candidate) => candidate.id === session.id);
          if (record) record.warned_at = isoSeconds(new Date(now));
        });
      } catch (error) {
        Object.assign(item, {result: 'failed', error: (error as Error).message});
      }
    }
    return items;
  }

  async #finish(report: ReapReport): Promise<void> {
    await this.#record(report.items, (counters) => {
      counters.last_reap_at = isoSeconds(this.deps.clock.now());
      counters.last_reap_duration_seconds = Math.round(report.duration_ms) / 1000;
    });
  }

  /** What was done, counted in the state's counters (and `run`'s own figures) and audited. */
  async #record(items: ReapItem[], run?: (counters: ReturnType<typeof countersOf>) => void): Promise<void> {
    const reaped = items.filter((item) => item.action === 'remove-session' && item.result === 'done').length;
    await this.deps.store.update((state) => {
      const counters = countersOf(state);
      counters.sessions_reaped_total += reaped;
      run?.(counters);
    });
    for (const item of items) {
      if (item.action === 'warn' || item.result === 'skipped') continue;
      await this.deps.audit?.record({
        action: 'reap',
        session: item.session_id,
        user: item.user,
        result: item.result === 'failed' ? 'failed' : 'ok',
        reason: [item.reason, item.detail, item.error].filter(Boolean).join(': '),
        ended: !['resume-session', 'stop-session', 'tidy-stopped'].includes(item.action),
      });
    }
    await this.deps.afterChange?.().catch((error: unknown) => {
      this.deps.warn(`cannot update metrics: ${(error as Error).message}`);
    });
  }
}
