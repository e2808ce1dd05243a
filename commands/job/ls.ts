import {ordinal} from '../../src/session/session-queue.js';
import type {JobView} from '../../src/jobs/job-view.js';
import type {Handler} from '../../cli/command-spec.js';
import {loadChalk, relativeTime, renderTable} from '../../cli/output.js';

/** Jobs, oldest first: ID, user, name, state (a queued one's place), GPU, times, exit code. */
const ls: Handler = async ({flags}, context): Promise<JobView[]> => {
  const {out} = context;
  const jobs = await (
    await context.services().sessionService()
  ).jobs.list({user: flags.user as string | undefined, all: flags.all === true});
  if (out.json) return jobs;
  const rows = jobs.map((job) => [
    job.job_id,
    job.user,
    job.name ?? '-',
    job.state === 'queued' && job.queue_position !== undefined
      ? `queued (${ordinal(job.queue_position)})`
      : job.state,
    job.gpu_uuid ? (job.mig_profile ? `MIG ${job.mig_profile}` : job.gpu_uuid) : (job.waiting_for ?? '-'),
    relativeTime(job.submitted_at),
    job.exit_code === null ? '-' : String(job.exit_code),
    job.command.join(' '),
  ]);
  out.log(
    await renderTable(
      ['ID', 'USER', 'NAME', 'STATE', 'GPU', 'SUBMITTED', 'EXIT', 'COMMAND'],
      rows,
      await loadChalk(out.colour),
    ),
  );
  return jobs;
};
export default ls;
