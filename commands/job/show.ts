import {jobExitStatus, jobText, type JobView} from '../../src/jobs/job-view.js';
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
  out.log(jobText(job, place, true));
  return job;
};
export default show;
