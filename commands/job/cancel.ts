import type {JobView} from '../../src/jobs/job-view.js';
import type {Handler} from '../../cli/command-spec.js';
import {endLine} from './render.js';

/** Cancels the job and says how it ended. */
const cancel: Handler = async ({args}, context): Promise<JobView> => {
  const job = await (await context.services().sessionService()).jobs.cancel(args.job!);
  if (!context.out.json) context.out.log(endLine(job));
  return job;
};
export default cancel;
