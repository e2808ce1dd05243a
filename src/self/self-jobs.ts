/**
 * `sandman job …` inside a session (docs/admin/sessions.md "The in-session command"): the
 * session's user submits, lists, reads and cancels her own batch jobs, with her defaults and limits
 * (the job workflows apply them to her as to any job of hers). A job of another user is looked up
 * among hers only, so it is "no job X" (exit 3) whether it exists or not, and nothing changes.
 */
import type {Clock} from '../core/clock.js';
import type {JobService} from '../jobs/job-service.js';
import {isEnded, jobExitStatus, jobText, resolveJob, type JobView} from '../jobs/job-view.js';
import {notFound} from '../core/errors.js';
import type {StateStore} from '../state/state-store.js';
import type {SelfJobCommand} from './self-job-commands.js';

/** What the in-session commands use of the job workflows. */
export type SelfJobs = Pick<JobService, 'submit' | 'list' | 'refresh' | 'logs' | 'cancel' | 'wait'>;

/** `--wait` answers by then even if the job still runs (the client gives up on an answer at 10 minutes). */
export const SELF_WAIT_LIMIT_MS = 9 * 60_000;
/** An answer carries at most the newest this many bytes of a job's output. */
export const SELF_LOG_LIMIT_BYTES = 4 * 1024 * 1024;

export interface SelfJobAnswer {
  exitCode: number;
  /** Printed as is (text). */
  text?: string;
  /** Printed as JSON (text otherwise). */
  value: unknown;
}

export async function runSelfJob(
  deps: {store: StateStore; clock: Clock; jobs: () => Promise<SelfJobs>; waitLimitMs?: number},
  user: string,
  command: SelfJobCommand,
): Promise<SelfJobAnswer> {
  const jobs = await deps.jobs();
  const own = async (reference: string): Promise<string> => {
    const mine = ((await deps.store.read()).jobs ?? []).filter((job) => job.user === user);
    try {
      return resolveJob(mine, reference).id;
    } catch {
      throw notFound(`no job of yours is ${JSON.stringify(reference)} ("sandman job ls --all" lists yours)`);
    }
  };
  switch (command.action) {
    case 'submit': {
      const job = await jobs.submit({
        user,
        gpu: command.gpu,
        command: command.command,
        env: command.env,
        ...(command.image !== undefined ? {image: command.image} : {}),
        ...(command.ttl !== undefined ? {ttl: command.ttl} : {}),
        ...(command.jobName !== undefined ? {name: command.jobName} : {}),
        ...(command.workdir !== undefined ? {workdir: command.workdir} : {}),
      });
      if (!command.wait) {
        const place =
          job.state === 'queued' && job.queue_position !== undefined
            ? `\n(queued: #${job.queue_position} in line for ${job.waiting_for})`
            : '';
        return {exitCode: 0, text: `${job.job_id}${place}`, value: job};
      }
      const deadline = deps.clock.now().getTime() + (deps.waitLimitMs ?? SELF_WAIT_LIMIT_MS);
      const ended = await jobs.wait(job.job_id, () => undefined, {
        pollMs: 500,
        until: () => deps.clock.now().getTime() >= deadline,
      });
      if (!isEnded(ended))
        return {
          exitCode: 1,
          text:
            (await output(jobs, ended.job_id)) +
            `\nsandman: job ${ended.job_id} is still ${ended.state}: "sandman job show ${ended.job_id}" and "sandman job logs ${ended.job_id}" later`,
          value: ended,
        };
      return {exitCode: jobExitStatus(ended), text: await output(jobs, ended.job_id), value: ended};
    }
    case 'ls': {
      const list = await jobs.list({user, all: command.all});
      return {exitCode: 0, text: listText(list), value: list};
    }
    case 'show': {
      const job = await jobs.refresh(await own(command.job));
      return {exitCode: jobExitStatus(job), text: showText(job), value: job};
    }
    case 'logs': {
      const id = await own(command.job);
      const logs = await output(jobs, id);
      return {exitCode: 0, text: logs, value: {job_id: id, logs}};
    }
    case 'cancel': {
      const job = await jobs.cancel(await own(command.job));
      return {exitCode: 0, text: `job ${job.job_id} ${job.state}`, value: job};
    }
  }
}

/** Its output so far (the newest SELF_LOG_LIMIT_BYTES), without a trailing newline. */
async function output(jobs: SelfJobs, id: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await jobs.logs(id, false)) chunks.push(Buffer.from(chunk as Buffer));
  const all = Buffer.concat(chunks);
  const kept = all.length > SELF_LOG_LIMIT_BYTES ? all.subarray(all.length - SELF_LOG_LIMIT_BYTES) : all;
  return kept.toString('utf8').replace(/\n$/, '');
}

function listText(jobs: readonly JobView[]): string {
  if (jobs.length === 0) return 'no jobs ("sandman job ls --all" also lists those that ended)';
  const rows = jobs.map((job) => [
    job.job_id,
    job.name ?? '-',
    job.state + (job.exit_code !== null ? ` (${job.exit_code})` : ''),
    job.gpu_uuid ? (job.mig_profile ?? job.gpu_uuid.slice(0, 12)) : 'none',
    job.submitted_at,
    job.command.join(' '),
  ]);
  const header = ['JOB', 'NAME', 'STATE', 'GPU', 'SUBMITTED', 'COMMAND'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  return [header, ...rows]
    .map((row) =>
      row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '),
    )
    .join('\n');
}

function showText(job: JobView): string {
  return jobText(
    job,
    job.queue_position !== undefined ? ` (#${job.queue_position} in line for ${job.waiting_for})` : '',
    false,
  );
}
