/**
 * How a batch job ends (docs/admin/jobs.md): its container exits (collected by whichever sandman
 * process sees it: `job submit --wait`, `job logs -f`, the reaper), it is cancelled or it runs past
 * its TTL (SIGTERM, a grace, SIGKILL). Collecting keeps its output in the user's home, removes the
 * container and frees its GPU, so the line's head can start.
 */
import {isoSeconds} from '../core/clock.js';
import {conflict} from '../core/errors.js';
import {LABELS} from '../core/labels.js';
import type {ContainerSummary} from '../runtime/docker/container-client.js';
import type {JobRecord} from '../state/state-data.js';
import type {SessionServiceDeps} from '../session/session-context.js';
import {newestBytes} from './job-log-store.js';
import {allocationOf} from '../session/session-records.js';
import {addJobNotice} from './job-notices.js';
import {isEnded} from './job-view.js';

/** SIGTERM, then this long, then SIGKILL (cancel and TTL alike). */
export const JOB_STOP_GRACE_S = 30;

/** A start that has not made its container after this long died half-way (as a session's create). */
const STALE_START_MS = 10 * 60_000;

export interface JobReapItem {
  action: 'collect-job' | 'stop-job' | 'remove-container' | 'forget-job' | 'end-job';
  reason: 'ended' | 'timeout' | 'stale' | 'orphan' | 'retention' | 'left-queue' | 'gone';
  job_id: string | null;
  user: string | null;
  container: string | null;
  result: 'done' | 'would' | 'failed';
  detail?: string;
  error?: string;
}

export class JobEnder {
  constructor(private readonly deps: SessionServiceDeps) {}

  /** Collects a running job whose container has ended; undefined while it still runs. */
  async collectIfEnded(job: JobRecord): Promise<JobRecord | undefined> {
    if (job.state !== 'running' || !job.container_id) return undefined;
    const info = await this.deps.docker.inspectContainer(job.container_id);
    if (info && (info.running || info.restarting)) return undefined;
    // Made but not started yet: its starter is still at work.
    if (info?.status === 'created' && job.creator_pid && this.deps.processes.alive(job.creator_pid))
      return undefined;
    if (info?.status === 'created') return this.finish(job, undefined, 'sandman stopped while starting it');
    return this.finish(job, info?.exitCode);
  }

  /**
   * Ends a running job whose container is done (or gone: `exitCode` undefined): its output into her
   * home, the record ended under the lock (once, whoever collects), the container and device freed.
   */
  async finish(
    job: JobRecord,
    exitCode: number | undefined,
    reason?: string,
  ): Promise<JobRecord | undefined> {
    const {docker, config} = this.deps;
    if (
      job.container_id &&
      exitCode !== undefined &&
      this.deps.jobLogs &&
      job.workspace &&
      job.uid !== null
    ) {
      const output = await newestBytes(
        await docker.logs(job.container_id, {follow: false}),
        config.jobLogLimit,
      ).catch(() => undefined);
      if (output)
        await this.deps.jobLogs
          .keep({workspace: job.workspace, uid: job.uid}, job.id, output)
          .catch((error: unknown) => this.deps.warn((error as Error).message));
    }
    // A device sandman made goes before the record lets another job have its slot.
    if (job.mig_created && job.gpu_uuid)
      await this.deps.gpus.release(allocationOf(job)).catch(() => undefined);
    const ended = await this.deps.store.update((state) => {
      const fresh = state.jobs?.find((candidate) => candidate.id === job.id);
      if (!fresh || fresh.state !== 'running') return undefined;
      const how = fresh.stopping ?? (exitCode === undefined ? 'failed' : 'exited');
      Object.assign(fresh, {
        state: how,
        exit_code: exitCode ?? null,
        ended_at: isoSeconds(this.deps.clock.now()),
        reason: reason ?? endReason(how, exitCode),
        stopping: null,
      } satisfies Partial<JobRecord>);
      addJobNotice(state, this.deps.config, this.deps.clock.now().getTime(), fresh);
      return {...fresh};
    });
    if (ended) await this.deps.faultPoint?.('job-ended');
    await docker.removeContainer(job.container_id ?? job.container_name).catch(() => undefined);
    if (!ended) return undefined;
    if (!job.mig_created && job.gpu_uuid)
      await this.deps.gpus.release(allocationOf(job)).catch(() => undefined);
    await this.deps.audit?.record({
      action: 'job-end',
      session: null,
      job: job.id,
      user: job.user,
      result: ended.state === 'failed' ? 'failed' : 'ok',
      state: ended.state,
      exit_code: ended.exit_code,
      reason: ended.reason ?? undefined,
      gpu_uuid: job.gpu_uuid,
    });
    await this.deps.afterChange?.().catch(() => undefined);
    await this.deps.deliverNotices?.().catch(() => undefined);
    return ended;
  }

  /** Stops a running job (SIGTERM, the grace, SIGKILL) and collects it as `as`. */
  async stop(
    job: JobRecord,
    as: 'cancelled' | 'timeout',
    graceSeconds = JOB_STOP_GRACE_S,
  ): Promise<JobRecord> {
    const marked = await this.deps.store.update((state) => {
      const fresh = state.jobs?.find((candidate) => candidate.id === job.id);
      if (!fresh || fresh.state !== 'running') return undefined;
      fresh.stopping ??= as;
      return {...fresh};
    });
    if (!marked) return job;
    if (marked.container_id) await this.deps.docker.stopContainer(marked.container_id, graceSeconds);
    return (await this.collectIfEnded(marked)) ?? marked;
  }

  /** `job cancel`: a queued job leaves the line; a running one is stopped. Exit 4 when it ended. */
  async cancel(job: JobRecord): Promise<JobRecord> {
    if (isEnded(job)) throw conflict(`job ${job.id} already ended (${job.state})`);
    const left = await this.deps.store.update((state) => {
      const fresh = state.jobs?.find((candidate) => candidate.id === job.id);
      if (!fresh || fresh.state !== 'queued') return undefined;
      state.queue = (state.queue ?? []).filter((entry) => entry.id !== job.id);
      Object.assign(fresh, {
        state: 'cancelled',
        ended_at: isoSeconds(this.deps.clock.now()),
        reason: 'cancelled while queued',
      } satisfies Partial<JobRecord>);
      return {...fresh};
    });
    await this.deps.audit?.record({
      action: 'job-cancel',
      session: null,
      job: job.id,
      user: job.user,
      result: 'ok',
      reason: left ? 'queued' : 'running',
    });
    if (left) return left;
    const current = (await this.deps.store.read()).jobs?.find((candidate) => candidate.id === job.id) ?? job;
    if (isEnded(current)) return current;
    return this.stop(current, 'cancelled');
  }

  /**
   * The reaper's part (docs/admin/jobs.md): ended jobs collected, jobs past their TTL stopped,
   * starts that died half-way and containers no job owns removed, jobs older than jobRetention
   * forgotten. `containers` were listed before the state was read (see planReap).
   */
  async reap(containers: readonly ContainerSummary[], dryRun: boolean): Promise<JobReapItem[]> {
    const state = await this.deps.store.read();
    const jobs = state.jobs ?? [];
    const now = this.deps.clock.now().getTime();
    const items: JobReapItem[] = [];
    const item = (
      action: JobReapItem['action'],
      reason: JobReapItem['reason'],
      job: JobRecord | undefined,
      container?: string,
    ): JobReapItem => ({
      action,
      reason,
      job_id: job?.id ?? null,
      user: job?.user ?? null,
      container: container ?? job?.container_name ?? null,
      result: dryRun ? 'would' : 'done',
    });
    const attempt = async (entry: JobReapItem, work: () => Promise<unknown>) => {
      if (!dryRun)
        try {
          const detail = await work();
          if (typeof detail === 'string') entry.detail = detail;
        } catch (error) {
          Object.assign(entry, {result: 'failed', error: (error as Error).message});
        }
      items.push(entry);
    };
    const jobContainers = containers.filter((container) => container.labels[LABELS.job]);
    const byJob = new Map(jobContainers.map((container) => [container.labels[LABELS.job]!, container]));
    for (const job of jobs) {
      if (job.state === 'queued' && !state.queue?.some((entry) => entry.id === job.id)) {
        // The line ended it (queueTimeout) or a crash lost its place.
        await attempt(item('end-job', 'left-queue', job), async () => {
          await this.deps.store.update((current) => {
            const fresh = current.jobs?.find((candidate) => candidate.id === job.id);
            if (fresh?.state === 'queued' && !current.queue?.some((entry) => entry.id === job.id)) {
              Object.assign(fresh, {
                state: 'failed',
                reason: 'left the queue unstarted (queueTimeout)',
                ended_at: isoSeconds(this.deps.clock.now()),
              } satisfies Partial<JobRecord>);
              addJobNotice(current, this.deps.config, this.deps.clock.now().getTime(), fresh);
            }
          });
        });
        continue;
      }
      if (job.state !== 'running') continue;
      const container = byJob.get(job.id);
      const starting = job.creator_pid !== null && this.deps.processes.alive(job.creator_pid);
      const age = now - Date.parse(job.started_at ?? job.submitted_at);
      if (!job.container_id || !container) {
        // Its start died half-way (kill -9), or its container went outside sandman.
        if (job.container_id === null && starting && age < STALE_START_MS) continue;
        if (container && container.state === 'running') continue;
        await attempt(item('end-job', job.container_id ? 'gone' : 'stale', job), async () => {
          const ended = await this.finish(
            job,
            undefined,
            job.container_id ? 'its container is gone' : 'sandman stopped while starting it',
          );
          return ended?.state;
        });
        continue;
      }
      if (container.state !== 'running' && container.state !== 'restarting') {
        if (container.state === 'created' && starting) continue;
        await attempt(item('collect-job', 'ended', job), async () => (await this.collectIfEnded(job))?.state);
      } else if (job.stopping || (job.expires_at && Date.parse(job.expires_at) <= now)) {
        await attempt(item('stop-job', 'timeout', job), async () => {
          const ended = await this.stop(job, job.stopping ?? 'timeout');
          return ended.state;
        });
      }
    }
    // Containers of no running job: a crash between the record's end and the removal.
    const running = new Set(jobs.filter((job) => job.state === 'running').map((job) => job.id));
    for (const container of jobContainers)
      if (!running.has(container.labels[LABELS.job]!))
        await attempt(item('remove-container', 'orphan', undefined, container.name), () =>
          this.deps.docker.removeContainer(container.id),
        );
    const retention = this.deps.config.jobRetention;
    const old = jobs.filter(
      (job) => isEnded(job) && job.ended_at && now - Date.parse(job.ended_at) >= retention,
    );
    if (old.length > 0)
      await attempt(item('forget-job', 'retention', undefined), async () => {
        const ids = new Set(old.map((job) => job.id));
        await this.deps.store.update((current) => {
          current.jobs = (current.jobs ?? []).filter((job) => !ids.has(job.id));
        });
        return `${old.length} job(s) older than jobRetention`;
      });
    return items;
  }
}

function endReason(state: string, exitCode: number | undefined): string | null {
  if (state === 'cancelled') return 'cancelled';
  if (state === 'timeout') return 'ran past its TTL';
  if (exitCode === undefined) return 'its container is gone';
  if (exitCode === 137) return 'killed (SIGKILL: out of memory, or killed)';
  if (exitCode === 0) return null;
  return `exit code ${exitCode}`;
}
