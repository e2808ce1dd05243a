import {isoSeconds} from '../core/clock.js';
import {LABELS} from '../core/labels.js';
import {jobsNeedCare} from '../jobs/job-view.js';
import type {ContainerSummary} from '../runtime/docker/container-client.js';
import {countersOf, type SessionRecord} from '../state/state-data.js';
import {planReap, stoppedFor, type ReapReason, type ReapTarget} from './reap-plan.js';
import {sessionItem, type ReapItem, type ReapReport, type ReaperDeps} from './reap-types.js';
import {diskWarnings, expiryWarnings, idleTargets, keptAt} from './running-sessions.js';
import {gpuIdleTargets} from './gpu-idle.js';

export type {ReapItem, ReapReport, ReaperDeps} from './reap-types.js';

/** How many teardowns run at once: Docker removes containers in parallel well. */
const PARALLEL = 8;

/**
 * `sandman reap` (docs/admin/reaper.md "The reaper"). One reaper at a time holds `<stateDir>/reap.lock`; a second
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
      if (!options.dryRun) {
        await this.#finish(report);
        const notices = await this.#notify(items);
        if (notices) report.notices = notices;
      }
      return report;
    } finally {
      await release().catch(() => undefined);
    }
  }

  /**
   * One expired session a run has not reached yet, removed as a run would remove it: claimed under
   * the state lock (an extend that won keeps it: result skipped), torn down, counted and audited.
   * The SSH gateway calls this when the user connects (docs/admin/gateway.md "The SSH gateway").
   */
  async removeExpired(session: SessionRecord): Promise<ReapItem> {
    const item = await this.#handle({reason: 'expired', session}, false, this.deps.clock.now().getTime());
    await this.#record([item]);
    // Recorded only: the user is connecting, and the next run delivers it.
    await this.deps.notices?.recordItems([item], this.deps.clock.now().getTime()).catch((error: unknown) => {
      this.deps.warn(`cannot record notices: ${(error as Error).message}`);
    });
    return item;
  }

  /**
   * Notices of what the run saw, recorded under the state lock and delivered after it (docs/admin/notifications-and-idleness.md "Notifications"); a failed delivery is retried by the next run and fails no reap.
   */
  async #notify(items: ReapItem[]): Promise<ReapReport['notices']> {
    if (!this.deps.notices) return undefined;
    try {
      const summary = await this.deps.notices.afterReap(items, this.deps.clock.now().getTime());
      for (const error of summary.errors)
        this.deps.warn(`notice not delivered (retried at the next reap): ${error}`);
      return summary.recorded + summary.delivered + summary.failed > 0 ? summary : undefined;
    } catch (error) {
      this.deps.warn(`cannot record notices: ${(error as Error).message}`);
      return undefined;
    }
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

    if (config.idleTimeout !== undefined)
      targets.push(...(await idleTargets(this.deps, running, now, dryRun)));
    const idle = new Set(targets.flatMap((target) => (target.session ? [target.session.id] : [])));
    targets.push(
      ...(await gpuIdleTargets(
        this.deps,
        state,
        running.filter((session) => !idle.has(session.id)),
        now,
        dryRun,
      )),
    );
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
      ...(await expiryWarnings(
        this.deps,
        running.filter((session) => !idleTaken.has(session.id)),
        now,
        dryRun,
      )),
    );
    // Jobs first: a GPU an ended job gave back goes to the line's head below.
    items.push(
      ...(await this.#jobs(containers, jobsNeedCare(state.jobs ?? [], now, config.jobRetention), dryRun)),
    );
    items.push(...(await this.#queue(state.queue?.length ?? 0, dryRun)));
    items.push(...(await diskWarnings(this.deps, running, state, dryRun)));
    return items;
  }

  /**
   * The queue's backstop (docs/admin/users-and-limits.md "Users and limits"): requests older than queueTimeout end, and
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

  /** Batch jobs (docs/admin/jobs.md): see JobEnder.reap. The session service loads only when there are any. */
  async #jobs(containers: ContainerSummary[], anyJobs: boolean, dryRun: boolean): Promise<ReapItem[]> {
    if (!anyJobs && !containers.some((container) => container.labels[LABELS.job])) return [];
    const found = await (await this.deps.sessions()).jobs.reap(containers, dryRun);
    return found.map(({job_id, ...rest}) => ({...rest, session_id: job_id}));
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
      return this.#stopIdle(session, dryRun, target.detail);
    const item = {
      ...sessionItem('remove-session', target.reason, session, dryRun),
      ...(target.detail ? {detail: target.detail} : {}),
    };
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
  async #stopIdle(session: SessionRecord, dryRun: boolean, why?: string): Promise<ReapItem> {
    const item: ReapItem = {
      ...sessionItem('stop-session', 'idle', session, dryRun),
      ...(why ? {detail: why} : {}),
    };
    if (dryRun) return item;
    try {
      const stopped = await (await this.deps.sessions()).stop(session.id);
      const freed = stopped.gpu_freed ? `GPU ${stopped.gpu_freed} freed` : undefined;
      const detail = [why, freed].filter(Boolean).join('; ');
      return detail ? {...item, detail} : item;
    } catch (error) {
      return {...item, result: 'failed', error: (error as Error).message};
    }
  }

  /**
   * Stopped sessions (docs/admin/sessions.md "Stop and start"): a device held past gpuHoldAfterStop goes back, and
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
        (reason === 'dangling' && fresh.status === 'running') ||
        // A keep asked for since the plan was made wins (docs/admin/sessions.md "The in-session command").
        (reason === 'idle' && fresh.status === 'running' && !keptAt(fresh, now)) ||
        (reason === 'dangling' && fresh.status === 'stopped') ||
        (reason === 'retention' && stoppedFor(fresh, now) >= this.deps.config.stoppedRetention);
      if (!stillDue) return undefined;
      fresh.status = 'removing';
      return {...fresh};
    });
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
      // A job's end is its own audit line (job-end).
      if (item.action.endsWith('-job')) continue;
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
