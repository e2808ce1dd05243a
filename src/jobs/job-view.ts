/** A batch job as `job ls`, `job show` and the API show it (docs/admin/jobs.md). */
import {SandmanError, notFound} from '../core/errors.js';
import type {JobRecord, JobState} from '../state/state-data.js';
import {jobLogPath} from './job-log-store.js';

export interface JobView {
  job_id: string;
  user: string;
  name: string | null;
  state: JobState;
  command: string[];
  image: string;
  gpu_uuid: string | null;
  mig_profile: string | null;
  submitted_at: string;
  started_at: string | null;
  ended_at: string | null;
  expires_at: string | null;
  exit_code: number | null;
  reason: string | null;
  /** Where its output stays, in the user's home. */
  log: string;
  /** Queued: 1 is next for what it waits for. */
  queue_position?: number;
  waiting_for?: string;
}

export const ENDED_STATES: readonly JobState[] = ['exited', 'timeout', 'cancelled', 'failed'];

export function isEnded(job: Pick<JobRecord, 'state'>): boolean {
  return ENDED_STATES.includes(job.state);
}

/**
 * Whether the reaper has anything to do for these jobs (one queued or running, or an ended one past
 * jobRetention): it loads the job workflows only then.
 */
export function jobsNeedCare(jobs: readonly JobRecord[], now: number, retentionMs: number): boolean {
  return jobs.some(
    (job) => !isEnded(job) || (job.ended_at !== null && now - Date.parse(job.ended_at) >= retentionMs),
  );
}

export function toJobView(job: JobRecord, place?: {queue_position: number; waiting_for: string}): JobView {
  return {
    job_id: job.id,
    user: job.user,
    name: job.name,
    state: job.state,
    command: job.command,
    image: job.image,
    gpu_uuid: job.gpu_uuid,
    mig_profile: job.mig_profile,
    submitted_at: job.submitted_at,
    started_at: job.started_at,
    ended_at: job.ended_at,
    expires_at: job.expires_at,
    exit_code: job.exit_code,
    reason: job.reason,
    log: `~/${jobLogPath(job.id)}`,
    ...(place ?? {}),
  };
}

/** The job a reference names: its ID, a unique ID prefix, or its --name (the newest of that name). */
export function resolveJob(jobs: readonly JobRecord[], reference: string): JobRecord {
  const exact = jobs.find((job) => job.id === reference);
  if (exact) return exact;
  const prefixed = jobs.filter((job) => reference.length >= 4 && job.id.startsWith(reference));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1)
    throw new SandmanError(
      'INVALID_INPUT',
      `job prefix ${reference} is ambiguous: ${prefixed.map((job) => job.id).join(', ')}`,
    );
  const named = jobs.filter((job) => job.name === reference);
  if (named.length > 0) return named[named.length - 1]!;
  throw notFound(`no job ${reference} ("sandman job ls --all" lists them)`);
}

/**
 * `job show`'s and `job submit --wait`'s exit status (docs/admin/jobs.md): the job's own exit code
 * once it exited; 0 while queued or running; 1 when it was cancelled, timed out or failed to start
 * without an exit code of its own.
 */
export function jobExitStatus(job: Pick<JobRecord, 'state' | 'exit_code'>): number {
  if (!isEnded(job)) return 0;
  if (job.state === 'exited') return job.exit_code ?? 1;
  return job.exit_code !== null && job.exit_code !== 0 ? job.exit_code : 1;
}

/**
 * A job field by field, as `sandman job show` prints it on the host and in a session; a field with
 * no value is left out. `place` follows a queued job's state; the host's view (`host`) also names
 * the owner and when a job that has not ended runs until.
 */
export function jobText(job: JobView, place: string, host: boolean): string {
  const fields: Array<[string, string | null]> = [
    ['Job', job.job_id],
    ...(host ? [['User', job.user] as [string, string]] : []),
    ['Name', job.name],
    ['State', `${job.state}${place}`],
    ['Command', job.command.join(' ')],
    ['Image', job.image],
    ['GPU', job.gpu_uuid ? `${job.gpu_uuid}${job.mig_profile ? ` (MIG ${job.mig_profile})` : ''}` : 'none'],
    ['Submitted', job.submitted_at],
    ['Started', job.started_at],
    ['Ended', job.ended_at],
    ...(host ? [['Runs until', job.ended_at ? null : job.expires_at] as [string, string | null]] : []),
    ['Exit code', job.exit_code === null ? null : String(job.exit_code)],
    ['Reason', job.reason],
    ['Log', job.log],
  ];
  return fields
    .filter(([, value]) => value !== null)
    .map(([label, value]) => `${`${label}:`.padEnd(12)}${value}`)
    .join('\n');
}
