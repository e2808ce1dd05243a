import {isoSeconds} from '../core/clock.js';
import type {AuditLog} from '../audit/audit-log.js';
import type {Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {conflict, invalidInput, isSandmanError, type SandmanError} from '../core/errors.js';
import type {QueuedRequest, StateData} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import type {Warn} from '../core/warn.js';
import {effectiveLimits} from '../users/user-limits.js';
import type {CreateRequest, CreatedSession} from './session-context.js';

const WEEK = 7 * 86_400_000;

/** A queued create as `session create --queue`, `session ls` and the API show it. */
export interface QueuedView {
  session_id: string;
  ssh_user: string;
  status: 'queued';
  /** 1 is next for what it waits for. */
  queue_position: number;
  waiting_for: string;
  queued_at: string;
  gpu_hours: number;
}

export interface SessionQueueDeps {
  config: Config;
  store: StateStore;
  clock: Clock;
  warn: Warn;
  audit?: AuditLog;
  gpuHours?: (user: string, windowMs: number) => Promise<{used: number}>;
  /** Runs a queued create as an ordinary one (reservation under the lock, then build and commit). */
  start: (request: CreateRequest) => Promise<CreatedSession>;
  /** Starts a stopped session a `session start --queue` put in line (docs/admin/sessions.md "Stop and start"). */
  startStopped: (sessionId: string, fromQueue: string) => Promise<unknown>;
  /** Tells the request's user it started (docs/admin/notifications-and-idleness.md "Notifications"); its failure is only a warning. */
  notifyStarted?: (entry: QueuedRequest) => Promise<void>;
  /**
   * Starts a batch job waiting in the same line (docs/admin/jobs.md). CAPACITY: nothing of its
   * kind is free; with details.skip, only this job waits (its user runs userMaxJobs already).
   */
  startJob?: (jobId: string) => Promise<unknown>;
}

/**
 * The queue (docs/admin/users-and-limits.md "Users and limits"): a create that found nothing free waits as a record in the
 * state file, and whichever sandman process frees capacity (rm, reap, a failed create's undo, a
 * waiting `create --queue`) starts the head. No daemon: the reaper's minute is the backstop.
 */
export class SessionQueue {
  #draining = false;

  constructor(private readonly deps: SessionQueueDeps) {}

  /** Puts a create that met `refusal` (exit 5) in line; one queued request per user. */
  async enqueue(
    request: CreateRequest,
    refusal: SandmanError,
    id: string,
    /** A stopped session to start rather than a create (its ID is the request's). */
    startOf?: string,
  ): Promise<QueuedView> {
    if (request.password)
      throw invalidInput(
        '--password cannot wait in a queue (it is shown once, by the process that starts the session)',
      );
    const state = await this.deps.store.read();
    const limits = effectiveLimits(this.deps.config, request.user, state.users[request.user]);
    const window = limits.gpuHourBudget.value?.windowMs ?? WEEK;
    const used = this.deps.gpuHours ? (await this.deps.gpuHours(request.user, window)).used : 0;
    const entry: QueuedRequest = {
      id,
      user: request.user,
      queued_at: isoSeconds(this.deps.clock.now()),
      waiting_for: waitingFor(request, refusal),
      gpu_hours: used,
      request: {
        gpu: request.gpu,
        ...(request.ttl !== undefined ? {ttl: request.ttl} : {}),
        env: request.env,
        ...(request.authorizedKeys ? {authorized_keys: request.authorizedKeys.text} : {}),
        ...(request.node !== undefined ? {node: request.node} : {}),
        ...(startOf ? {start: startOf} : {}),
      },
    };
    const view = await this.deps.store.update((current) => {
      const queue = (current.queue ??= []);
      const waiting = queue.find((queued) => queued.user === request.user && queued.kind !== 'job');
      if (waiting)
        throw conflict(
          `user ${request.user} is already in line (${waiting.id}, for ${waiting.waiting_for}); "sandman session rm ${waiting.id}" cancels it`,
        );
      queue.push(entry);
      return queuedView(current, entry);
    });
    await this.deps.audit?.record({
      action: 'queue',
      session: id,
      user: request.user,
      result: 'ok',
      reason: entry.waiting_for,
    });
    return view;
  }

  /**
   * Starts what can start now, head first for each kind: fewest GPU-hours, then first come. A
   * request never starts before one of its kind with fewer GPU-hours; a kind with nothing free
   * does not hold up another kind. Returns the IDs started. Safe against concurrent drains: the
   * reservation takes the request out of the queue under the lock, once.
   */
  async drain(): Promise<string[]> {
    if (this.#draining) return [];
    this.#draining = true;
    const started: string[] = [];
    try {
      const blocked = new Set<string>();
      // Jobs whose user runs userMaxJobs already: they wait without holding up their kind.
      const skipped = new Set<string>();
      for (;;) {
        const next = ordered((await this.deps.store.read()).queue ?? []).find(
          (entry) => !blocked.has(entry.waiting_for) && !skipped.has(entry.id),
        );
        if (!next) return started;
        try {
          if (next.kind === 'job') {
            if (!this.deps.startJob) {
              skipped.add(next.id);
              continue;
            }
            await this.deps.startJob(next.id);
          } else if (next.request.start) await this.deps.startStopped(next.request.start, next.id);
          else await this.deps.start(this.#createOf(next));
          started.push(next.id);
          await this.deps.notifyStarted?.(next).catch((error: unknown) => {
            this.deps.warn(`cannot tell ${next.user} that ${next.id} started: ${(error as Error).message}`);
          });
        } catch (error) {
          if (isSandmanError(error) && error.details?.skip) skipped.add(next.id);
          else if (isSandmanError(error) && error.kind === 'CAPACITY') blocked.add(next.waiting_for);
          else if (isSandmanError(error) && error.details?.queued_gone) continue;
          else await this.#end(next.id, `could not be started: ${(error as Error).message}`);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * Waits for a queued request to become a session (`create --queue` attached): reports its place
   * as it changes, and tries to start the line itself now and then, so a waiting user needs no
   * reaper. Resolves 'started' once the session runs, 'ended' when the request left the line
   * without one (cancelled, or older than queueTimeout).
   */
  async waitFor(
    id: string,
    onPlace: (view: QueuedView) => void,
    options: {pollMs?: number; drainEvery?: number} = {},
  ): Promise<'started' | 'ended'> {
    const pollMs = options.pollMs ?? 1000;
    const drainEvery = options.drainEvery ?? 5;
    for (let round = 1; ; round++) {
      const state = await this.deps.store.read();
      const session = state.sessions.find((record) => record.id === id);
      if (session?.status === 'running') return 'started';
      const entry = state.queue?.find((queued) => queued.id === id);
      // A stopped session out of line and still stopped: its start was refused or cancelled.
      if (!entry && (!session || session.status === 'stopped')) return 'ended';
      if (entry) onPlace(queuedView(state, entry));
      if (entry && round % drainEvery === 0) await this.drain().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Ends queued requests older than queueTimeout (the reaper); returns them. */
  async expire(dryRun: boolean): Promise<QueuedRequest[]> {
    const limit = this.deps.clock.now().getTime() - this.deps.config.queueTimeout;
    const stale = ((await this.deps.store.read()).queue ?? []).filter(
      (entry) => Date.parse(entry.queued_at) <= limit,
    );
    if (!dryRun) for (const entry of stale) await this.#end(entry.id, 'queue-timeout');
    return stale;
  }

  /** `session rm` of a queued request: it leaves the line. False when there is none. */
  async cancel(reference: string): Promise<QueuedRequest | undefined> {
    const entry = findQueued(await this.deps.store.read(), reference);
    if (!entry) return undefined;
    return (await this.#end(entry.id, 'cancelled')) ? entry : undefined;
  }

  async #end(id: string, reason: string): Promise<boolean> {
    const ended = await this.deps.store.update((state) => {
      const entry = state.queue?.find((queued) => queued.id === id);
      if (entry) state.queue = state.queue!.filter((queued) => queued.id !== id);
      return entry;
    });
    if (ended)
      await this.deps.audit?.record({
        action: 'queue',
        session: id,
        user: ended.user,
        result: 'failed',
        reason,
      });
    return ended !== undefined;
  }

  #createOf(entry: QueuedRequest): CreateRequest {
    return {
      user: entry.user,
      gpu: entry.request.gpu,
      ...(entry.request.ttl !== undefined ? {ttl: entry.request.ttl} : {}),
      env: entry.request.env,
      ...(entry.request.authorized_keys
        ? {authorizedKeys: {text: entry.request.authorized_keys, source: 'the queued request'}}
        : {}),
      ...(entry.request.node !== undefined ? {node: entry.request.node} : {}),
      password: false,
      wait: true,
      fromQueue: entry.id,
    };
  }
}

/** The start order: fewest GPU-hours first, then first come (docs/admin/users-and-limits.md "Users and limits"). */
export function ordered(queue: readonly QueuedRequest[]): QueuedRequest[] {
  return [...queue].sort(
    (a, b) =>
      a.gpu_hours - b.gpu_hours || (a.queued_at < b.queued_at ? -1 : a.queued_at > b.queued_at ? 1 : 0),
  );
}

/** Whether a create's result is a place in line rather than a session. */
export function isQueued(result: object): result is QueuedView {
  return 'queue_position' in result;
}

/** The queued request a reference names: its ID or its user (`session rm`, `session show`). */
export function findQueued(state: StateData, reference: string): QueuedRequest | undefined {
  return state.queue?.find(
    (entry) => entry.kind !== 'job' && (entry.id === reference || entry.user === reference),
  );
}

export function queuedView(state: StateData, entry: QueuedRequest): QueuedView {
  const line = ordered(state.queue ?? []).filter((queued) => queued.waiting_for === entry.waiting_for);
  return {
    session_id: entry.id,
    ssh_user: entry.user,
    status: 'queued',
    queue_position: line.findIndex((queued) => queued.id === entry.id) + 1,
    waiting_for: entry.waiting_for,
    queued_at: entry.queued_at,
    gpu_hours: entry.gpu_hours,
  };
}

/** `1st`, `2nd`, `3rd`, `4th` … `11th`, `12th`, `13th`, `21st`. */
export function ordinal(position: number): string {
  const tens = position % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][position % 10] ?? 'th');
  return `${position}${suffix}`;
}

function waitingFor(request: CreateRequest, refusal: SandmanError): string {
  const gpu = request.gpu;
  if (gpu.kind === 'profile') return `MIG ${gpu.profile}`;
  if (gpu.kind === 'mig-instance') return `MIG device ${gpu.uuid}`;
  if (gpu.kind === 'gpu') return gpu.ref === 'any' ? 'a whole GPU' : `GPU ${gpu.ref}`;
  if (/port/i.test(refusal.message)) return 'an SSH port';
  if (/maxSessions/.test(refusal.message)) return 'a session slot';
  return 'a GPU';
}
