import {jobExitStatus, type JobView} from '../../src/jobs/job-view.js';
import {ordinal} from '../../src/session/session-queue.js';
import type {Handler} from '../../cli/command-spec.js';

/** One job, field by field; the exit status is the job's (docs/admin/jobs.md). */
const show: Handler = async ({args}, context): Promise<JobView> => {
  const {out} = context;
  const job = await (await context.services().sessionService()).jobs.refresh(args.job!);
  context.setExitCode(jobExitStatus(job));
  if (out.json) return job;
  const place =
    job.queue_position !== undefined
      ? ` (${ordinal(job.queue_position)} in line for ${job.waiting_for})`
      : '';
  const fields: Array<[string, string | null]> = [
    ['Job', job.job_id],
    ['User', job.user],
    ['Name', job.name],
    ['State', `${job.state}${place}`],
    ['Command', job.command.join(' ')],
    ['Image', job.image],
    ['GPU', job.gpu_uuid ? `${job.gpu_uuid}${job.mig_profile ? ` (MIG ${job.mig_profile})` : ''}` : 'none'],
    ['Submitted', job.submitted_at],
    ['Started', job.started_at],
    ['Ended', job.ended_at],
    ['Runs until', job.ended_at ? null : job.expires_at],
    ['Exit code', job.exit_code === null ? null : String(job.exit_code)],
    ['Reason', job.reason],
    ['Log', job.log],
  ];
  for (const [label, value] of fields) if (value !== null) out.log(`${`${label}:`.padEnd(12)}${value}`);
  return job;
};
export default show;
