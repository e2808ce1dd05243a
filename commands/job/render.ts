/** What the job commands share: following a job's output to its end, and its end in words. */
import type {JobService} from '../../src/jobs/job-service.js';
import type {JobView} from '../../src/jobs/job-view.js';

/**
 * Follows a job until it ended: its output on stdout (not with --json) while it runs, and the
 * collection of its end (so its GPU goes to the next in line at once). Returns the ended job.
 */
export async function followJob(jobs: JobService, id: string, json: boolean): Promise<JobView> {
  const say = (text: string) => {
    if (!json) process.stderr.write(`${text}\n`);
  };
  let view = await jobs.wait(
    id,
    (now) => {
      if (now.state === 'queued') say(`queued: waiting for ${now.waiting_for ?? 'its turn'}`);
    },
    {until: (now) => now.state !== 'queued'},
  );
  // Running: its output as it comes (ending when it exits); already ended: what was kept.
  if (!json) {
    const stream = await jobs.logs(id, view.state === 'running').catch(() => undefined);
    if (stream) await printed(stream);
  }
  view = await jobs.wait(id, () => undefined);
  say(endLine(view));
  return view;
}

/** Copies a stream to stdout, and waits until stdout took all of it (a pipe is written later). */
export async function printed(stream: NodeJS.ReadableStream): Promise<void> {
  stream.pipe(process.stdout, {end: false});
  await new Promise((resolve) => stream.on('end', resolve));
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
}

export function endLine(view: JobView): string {
  const code = view.exit_code === null ? '' : ` (exit code ${view.exit_code})`;
  return `job ${view.job_id} ${view.state}${code}${view.reason ? `: ${view.reason}` : ''}`;
}
