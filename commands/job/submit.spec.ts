import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman job submit`: help, arguments and flags (data only); its handler is submit.ts. */
const spec: CommandSpec = {
  id: 'job:submit',
  summary: "Run a command as USER in a container of its own, on a GPU, through the sessions' queue",
  description:
    'The job waits in the same line as sessions (fewest GPU-hours first) until a device of its kind is free and ' +
    'its user runs fewer than userMaxJobs jobs, then runs as the user with her home mounted. Everything after -- ' +
    'is the command. Prints the job ID; --wait follows its output and exits with its exit code.',
  examples: [
    '<%= config.bin %> job submit alice --gpu any -- python train.py --epochs 10',
    '<%= config.bin %> job submit bob --profile 3g.20gb --ttl 6h --wait -- ./run.sh',
    "<%= config.bin %> job submit carol --no-gpu --json -- sh -c 'make test'",
  ],
  args: [{name: 'user', description: 'the user the job runs as', required: true}],
  variadic: true,
  flags: {
    profile: {kind: 'string', description: 'a free MIG device of this profile, e.g. 3g.20gb'},
    'mig-instance': {kind: 'string', description: 'this exact MIG device (UUID)'},
    gpu: {kind: 'string', description: 'a whole GPU not in MIG mode (UUID, index, or any)'},
    'no-gpu': {kind: 'boolean', description: 'no GPU at all'},
    image: {kind: 'string', description: 'the image to run (default: the session image, image)'},
    ttl: {
      kind: 'string',
      description: 'longest run time: 90m, 6h, 1d (default jobMaxTtl, within userMaxTtl)',
    },
    env: {
      kind: 'string',
      description: 'environment variable for the job, KEY=VALUE (repeatable)',
      multiple: true,
    },
    name: {kind: 'string', description: 'a name for the job (job show/logs/cancel take it too)'},
    workdir: {
      kind: 'string',
      description: 'directory to run in, absolute or relative to her home (default her home)',
    },
    wait: {kind: 'boolean', description: "follow the job's output until it ends and exit with its exit code"},
  },
  exclusive: ['profile', 'mig-instance', 'gpu', 'no-gpu'],
  fast: true,
  load: () => import('./submit.js'),
};

export default spec;
