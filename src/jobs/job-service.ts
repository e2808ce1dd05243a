/**
 * Batch jobs (README "Batch jobs"): submit, list, show, logs, cancel, wait, and the reaper's part.
 * Jobs wait in the sessions' line (src/session/session-queue.ts), under the same fairness order,
 * budgets and limits; the workflows are job-start.ts and job-end.ts.
 */
import {PassThrough} from 'node:stream';
import type {ContainerSummary} from '../runtime/docker/container-client.js';
import type {JobRecord, StateData} from '../state/state-data.js';
import type {SessionServiceDeps} from '../session/session-context.js';
import {queuedView, type SessionQueue} from '../session/session-queue.js';
import {JobEnder, type JobReapItem} from './job-end.js';
import {JobStarter, type JobRequest} from './job-start.js';
import {isEnded, resolveJob, toJobView, type JobView} from './job-view.js';

export type {JobRequest} from './job-start.js';
export type {JobReapItem} from './job-end.js';

export class JobService {
  readonly #starter: JobStarter;
  readonly #ender: JobEnder;

  constructor(
    private readonly deps: SessionServiceDeps,
    private readonly queue: () => SessionQueue,
  ) {
    this.#starter = new JobStarter(deps);
    this.#ender = new JobEnder(deps);
  }

  /** Puts the job in line and starts the line's head(s): it runs now when its turn and a device are there. */
  async submit(request: JobRequest): Promise<JobView> {
    const job = await this.#starter.submit(request);
    await this.queue()
      .drain()
      .catch(() => undefined);
    return this.show(job.id);
  }

  /** The queue's drain starts a job through this. */
  startQueued(id: string): Promise<JobRecord> {
    return this.#starter.start(id);
  }

  /** Queued and running jobs; with `all`, also those ended within jobRetention. */
  async list(filter: {user?: string; all?: boolean} = {}): Promise<JobView[]> {
    const state = await this.deps.store.read();
    return (state.jobs ?? [])
      .filter((job) => filter.user === undefined || job.user === filter.user)
      .filter((job) => filter.all || !isEnded(job))
      .map((job) => this.#view(job, state));
  }

  async show(reference: string): Promise<JobView> {
    const state = await this.deps.store.read();
    return this.#view(resolveJob(state.jobs ?? [], reference), state);
  }

  async cancel(reference: string): Promise<JobView> {
    const job = resolveJob((await this.deps.store.read()).jobs ?? [], reference);
    await this.#ender.cancel(job);
    await this.queue()
      .drain()
      .catch(() => undefined);
    return this.show(job.id);
  }

  /**
   * Collects the job if its container ended (and starts the line's head then); the view after.
   * `job submit --wait`, `job logs -f` and `job show` call it, so a GPU goes to the next job as
   * soon as any sandman process sees the exit.
   */
  async refresh(reference: string): Promise<JobView> {
    const job = resolveJob((await this.deps.store.read()).jobs ?? [], reference);
    if (job.state === 'running' && (await this.#ender.collectIfEnded(job)))
      await this.queue()
        .drain()
        .catch(() => undefined);
    return this.show(job.id);
  }

  /**
   * Waits until the job ended, or `until` holds (`job submit --wait`): while queued it tries the line now and then,
   * while running it watches its container; `onChange` hears each new state.
   */
  async wait(
    id: string,
    onChange: (view: JobView) => void,
    options: {pollMs?: number; until?: (view: JobView) => boolean} = {},
  ): Promise<JobView> {
    let last = '';
    for (let round = 1; ; round++) {
      const view = await this.refresh(id);
      if (view.state !== last) onChange(view);
      last = view.state;
      if (isEnded(view) || options.until?.(view)) return view;
      // Waiting: ended jobs nobody collected yet may hold what it waits for (a device, its slot).
      if (view.state === 'queued' && round % 8 === 0) {
        await this.collectEnded().catch(() => undefined);
        await this.queue()
          .drain()
          .catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
    }
  }

  /**
   * Its output: the running container's (followed with `follow` until it ends, then collected),
   * or what was kept in her home once it ended.
   */
  async logs(reference: string, follow: boolean): Promise<NodeJS.ReadableStream> {
    let job = resolveJob((await this.deps.store.read()).jobs ?? [], reference);
    while (follow && job.state === 'queued') {
      await new Promise((resolve) => setTimeout(resolve, 500));
      job = resolveJob((await this.deps.store.read()).jobs ?? [], job.id);
    }
    if (job.state === 'running' && job.container_id) {
      const stream = await this.deps.docker.logs(job.container_id, {follow});
      if (!follow) return stream;
      const out = new PassThrough();
      stream.pipe(out, {end: false});
      stream.on('end', () => {
        void this.refresh(job.id)
          .catch(() => undefined)
          .finally(() => out.end());
      });
      return out;
    }
    const kept =
      job.workspace && job.uid !== null
        ? await this.deps.jobLogs?.read({workspace: job.workspace, uid: job.uid}, job.id)
        : undefined;
    const out = new PassThrough();
    out.end(kept ?? Buffer.alloc(0));
    return out;
  }

  /** Collects every running job whose container has ended (what a reap's first step does for jobs). */
  async collectEnded(): Promise<void> {
    const running = ((await this.deps.store.read()).jobs ?? []).filter((job) => job.state === 'running');
    for (const job of running) await this.#ender.collectIfEnded(job);
  }

  /** The reaper's part: see JobEnder.reap; the line's head starts after. */
  reap(containers: readonly ContainerSummary[], dryRun: boolean): Promise<JobReapItem[]> {
    return this.#ender.reap(containers, dryRun);
  }

  #view(job: JobRecord, state: StateData): JobView {
    const entry = state.queue?.find((queued) => queued.id === job.id);
    if (!entry || job.state !== 'queued') return toJobView(job);
    const {queue_position, waiting_for} = queuedView(state, entry);
    return toJobView(job, {queue_position, waiting_for});
  }
}
