import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman job show`: help, arguments and flags (data only); its handler is show.ts. */
const spec: CommandSpec = {
  id: 'job:show',
  summary: 'Show a batch job: command, image, GPU, times, exit code and why it ended',
  description:
    "Exits with the job's exit code once it exited (1 when it was cancelled, timed out or failed to start " +
    'without one of its own; 0 while it is queued or running).',
  examples: ['<%= config.bin %> job show 5302066654b2', '<%= config.bin %> job show train-1 --json'],
  args: [{name: 'job', description: 'job ID, unique ID prefix or name', required: true}],
  fast: true,
  load: () => import('./show.js'),
};

export default spec;
