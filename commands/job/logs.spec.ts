import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman job logs`: help, arguments and flags (data only); its handler is logs.ts. */
const spec: CommandSpec = {
  id: 'job:logs',
  summary: "Print a batch job's output (stdout and stderr), kept in the user's home after it ended",
  examples: ['<%= config.bin %> job logs 5302066654b2', '<%= config.bin %> job logs train-1 -f'],
  args: [{name: 'job', description: 'job ID, unique ID prefix or name', required: true}],
  flags: {
    follow: {kind: 'boolean', char: 'f', description: 'keep printing until the job ends'},
  },
  fast: true,
  load: () => import('./logs.js'),
};

export default spec;
