import {invalidInput} from '../../src/core/errors.js';
import type {Handler} from '../../cli/command-spec.js';
import {printed} from './render.js';

/** The job's output: live from its container while it runs, else ~/.sandman/jobs/ID.log. */
const logs: Handler = async ({args, flags}, context): Promise<{job_id: string; logs: string} | undefined> => {
  if (flags.follow && context.out.json) throw invalidInput('--follow cannot be combined with --json');
  const jobs = (await context.services().sessionService()).jobs;
  const job = await jobs.show(args.job!);
  const stream = await jobs.logs(job.job_id, flags.follow === true);
  if (!context.out.json) {
    await printed(stream);
    return undefined;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return {job_id: job.job_id, logs: Buffer.concat(chunks).toString('utf8')};
};
export default logs;
