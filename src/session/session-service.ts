import type {SessionRecord} from '../state/state-data.js';
import {CreateWorkflow} from './create-session.js';
import {ExtendWorkflow} from './extend-session.js';
import {RemoveWorkflow} from './remove-session.js';
import {ResumeWorkflow} from './resume-session.js';
import {
  SessionContext,
  type CreatedSession,
  type CreateRequest,
  type RemoveResult,
  type ResumeOutcome,
  type SessionServiceDeps,
} from './session-context.js';
import {keepSession} from './keep-session.js';
import {resolveSession} from './resolve.js';
import {parseDuration} from '../core/duration.js';
import {SessionQueue, type QueuedView} from './session-queue.js';
import {StartWorkflow, type StartResult} from './start-session.js';
import {StopWorkflow, type StopResult} from './stop-session.js';
import type {SessionView} from './session-view.js';
import {JobService} from '../jobs/job-service.js';

export {SSHD_CAPABILITIES} from './session-context.js';
export {allocationOf, newSessionId} from './session-records.js';
export type {StartResult} from './start-session.js';
export type {StopResult} from './stop-session.js';
export type {
  CreatedSession,
  CreateRequest,
  RemoveError,
  RemoveResult,
  ResumeOutcome,
  SessionServiceDeps,
} from './session-context.js';

/**
 * Sessions, one workflow a module (create, remove, resume, extend, the queue), all on one deps
 * type and one shared context; this class puts them together for the wiring and the commands.
 */
export class SessionService {
  /** Queued creates (docs/admin/users-and-limits.md "Users and limits"); started by whatever frees capacity. */
  readonly queue: SessionQueue;
  /** Batch jobs (docs/admin/jobs.md), in the same line. */
  readonly jobs: JobService;
  readonly #ctx: SessionContext;
  readonly #creates: CreateWorkflow;
  readonly #removes: RemoveWorkflow;
  readonly #resumes: ResumeWorkflow;
  readonly #extends: ExtendWorkflow;
  readonly #start: StartWorkflow;
  readonly #stop: StopWorkflow;

  constructor(deps: SessionServiceDeps) {
    this.#ctx = new SessionContext(deps);
    this.#creates = new CreateWorkflow(this.#ctx, () => this.queue);
    this.#removes = new RemoveWorkflow(this.#ctx, () => this.queue);
    this.#resumes = new ResumeWorkflow(this.#ctx, (session) => this.#removes.teardown(session));
    this.#extends = new ExtendWorkflow(this.#ctx);
    this.#start = new StartWorkflow(this.#ctx, () => this.queue);
    this.#stop = new StopWorkflow(this.#ctx, () => this.queue);
    this.queue = new SessionQueue({
      config: deps.config,
      store: deps.store,
      clock: deps.clock,
      warn: deps.warn,
      audit: deps.audit,
      gpuHours: deps.gpuHours,
      start: (request) => this.create(request),
      startStopped: (id, fromQueue) => this.#start.start(id, {fromQueue}),
      notifyStarted: deps.notifyStarted,
      startJob: (id) => this.jobs.startQueued(id),
    });
    this.jobs = new JobService(deps, () => this.queue);
  }

  get instance(): string {
    return this.#ctx.instance;
  }

  create(request: CreateRequest): Promise<CreatedSession> {
    return this.#creates.create(request);
  }

  /** A session, or with `queue` and nothing free (exit 5 otherwise), a place in line. */
  createOrQueue(request: CreateRequest): Promise<CreatedSession | QueuedView> {
    return this.#creates.createOrQueue(request);
  }

  /** A session a queued request became, as create returns it. */
  startedFromQueue(id: string): Promise<CreatedSession> {
    return this.#creates.startedFromQueue(id);
  }

  remove(references: string[]): Promise<RemoveResult> {
    return this.#removes.remove(references);
  }

  removeAll(): Promise<RemoveResult> {
    return this.#removes.removeAll();
  }

  /** Releases everything a session holds; safe to run twice or concurrently. */
  teardown(session: SessionRecord): Promise<void> {
    return this.#removes.teardown(session);
  }

  resume(session: SessionRecord): Promise<ResumeOutcome> {
    return this.#resumes.resume(session);
  }

  extend(reference: string, ttlText: string | {until: number}): Promise<SessionView> {
    return this.#extends.extend(reference, ttlText);
  }

  /**
   * `sandman keep` from the API (`POST /sessions/{id}/keep`; docs/admin/sessions.md "The in-session command"): no idle stop
   * for `durationText`, within the user's userMaxKeep; an audit line either way.
   */
  async keep(reference: string, durationText: string): Promise<SessionRecord> {
    const {store} = this.#ctx.deps;
    try {
      const id = resolveSession((await store.read()).sessions, reference).id;
      const kept = await keepSession(this.#ctx.deps, id, parseDuration(durationText, 'keep'));
      await this.#ctx.recorded({
        action: 'keep',
        session: id,
        user: kept.user,
        result: 'ok',
        reason: `until ${kept.keep_until}`,
      });
      return kept;
    } catch (error) {
      await this.#ctx.recorded({
        action: 'keep',
        session: null,
        user: null,
        result: 'failed',
        reason: (error as Error).message,
      });
      throw error;
    }
  }

  /** `session stop`: the container stops and keeps its layer; the GPU goes back (docs/admin/sessions.md "Stop and start"). */
  stop(reference: string): Promise<StopResult> {
    return this.#stop.stop(reference);
  }

  /** `session start`: a device of its kind (its own when free), the container again. */
  start(reference: string): Promise<StartResult> {
    return this.#start.start(reference) as Promise<StartResult>;
  }

  /** `session start --queue`: started, or with nothing free (exit 5 otherwise) a place in line. */
  startOrQueue(reference: string): Promise<StartResult | QueuedView> {
    return this.#start.start(reference, {queue: true});
  }

  /** The reaper's care of a stopped session: a device held past gpuHoldAfterStop, a start that died. */
  tidyStopped(session: SessionRecord): Promise<string | undefined> {
    return this.#stop.tidy(session);
  }
}
