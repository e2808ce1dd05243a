/**
 * What a batch job tells its user (docs/admin/notifications-and-idleness.md "Notifications"): it started, it ended (exit code), it
 * failed to start or run, it ran out of time. Recorded in the outbox under the state lock, in the
 * same update that changes the job's state, so each event is recorded once (key: event and job ID)
 * whichever process sees it; delivered after the lock is released.
 */
import type {Config} from '../config/config.js';
import {noticesOf} from '../notify/outbox.js';
import type {JobRecord, NoticeEvent, StateData} from '../state/state-data.js';

/** Which notice a job's end is; none for a cancel (whoever cancelled it knows). */
export function jobEndEvent(job: Pick<JobRecord, 'state'>): NoticeEvent | undefined {
  if (job.state === 'exited') return 'job-finished';
  if (job.state === 'failed') return 'job-failed';
  if (job.state === 'timeout') return 'job-timeout';
  return undefined;
}

/** Her running session here, whose terminals hear it too. */
function sessionOf(state: StateData, user: string): string | null {
  return state.sessions.find((session) => session.user === user && session.status === 'running')?.id ?? null;
}

function label(job: JobRecord): string {
  return `Job ${job.id} (${job.user}${job.name ? `, ${job.name}` : ''}: ${job.command.join(' ').slice(0, 80)})`;
}

/** Inside `store.update`: the notice of the job's new state, if it has one. */
export function addJobNotice(
  state: StateData,
  config: Pick<Config, 'smtpUrl' | 'notifyWebhook' | 'backend'>,
  now: number,
  job: JobRecord,
  event: NoticeEvent | undefined = jobEndEvent(job),
): boolean {
  if (!event) return false;
  const logs = `"sandman job logs ${job.id}"`;
  const text =
    event === 'job-started'
      ? `${label(job)} started${job.gpu_uuid ? ` on ${job.mig_profile ?? job.gpu_uuid}` : ''}.`
      : event === 'job-finished'
        ? `${label(job)} finished with exit code ${job.exit_code}: ${logs} shows its output.`
        : event === 'job-timeout'
          ? `${label(job)} ran past its TTL and was stopped: ${logs} shows its output.`
          : `${label(job)} failed${job.reason ? `: ${job.reason}` : ''}.`;
  return noticesOf(state, {...config, terminals: config.backend !== 'swarm'}, now).add({
    event,
    user: job.user,
    session: sessionOf(state, job.user),
    job: job.id,
    key: `${event}:${job.id}`,
    text,
    data: {
      state: job.state,
      exit_code: job.exit_code,
      reason: job.reason,
      command: job.command,
      name: job.name,
    },
  });
}

/** A job that starts within this long of its submission was not waiting: no "started" notice. */
export const JOB_STARTED_NOTICE_AFTER_MS = 60_000;

/** Whether the job waited in line long enough for its start to be news to her. */
export function waitedInLine(job: Pick<JobRecord, 'submitted_at'>, now: number): boolean {
  return now - Date.parse(job.submitted_at) >= JOB_STARTED_NOTICE_AFTER_MS;
}
