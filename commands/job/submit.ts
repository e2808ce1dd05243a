import type {GpuChoice} from '../../src/gpu/gpu-allocator.js';
import {jobExitStatus, type JobView} from '../../src/jobs/job-view.js';
import {ordinal} from '../../src/session/session-queue.js';
import type {Handler} from '../../cli/command-spec.js';
import {followJob} from './render.js';

/** `job submit USER [flags] -- CMD…`: the job ID (or, --wait, its output and exit code). */
const submit: Handler = async ({args, argv, flags}, context): Promise<JobView> => {
  const {out} = context;
  const service = await context.services().sessionService();
  const job = await service.jobs.submit({
    user: args.user!,
    gpu: gpuChoiceOf(flags),
    command: argv.slice(1),
    image: flags.image as string | undefined,
    ttl: flags.ttl as string | undefined,
    env: (flags.env as string[] | undefined) ?? [],
    name: flags.name as string | undefined,
    workdir: flags.workdir as string | undefined,
  });
  if (!flags.wait) {
    if (!out.json) {
      out.log(job.job_id);
      if (job.state === 'queued' && job.queue_position !== undefined)
        process.stderr.write(`queued: ${ordinal(job.queue_position)} in line for ${job.waiting_for}\n`);
    }
    return job;
  }
  if (!out.json) process.stderr.write(`job ${job.job_id}\n`);
  const ended = await followJob(service.jobs, job.job_id, out.json);
  context.setExitCode(jobExitStatus(ended));
  return ended;
};
export default submit;

function gpuChoiceOf(flags: Record<string, unknown>): GpuChoice {
  if (flags['no-gpu']) return {kind: 'none'};
  if (flags.profile !== undefined) return {kind: 'profile', profile: flags.profile as string};
  if (flags['mig-instance'] !== undefined)
    return {kind: 'mig-instance', uuid: flags['mig-instance'] as string};
  if (flags.gpu !== undefined) return {kind: 'gpu', ref: flags.gpu as string};
  return {kind: 'default'};
}
