import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman job cancel`: help, arguments and flags (data only); its handler is cancel.ts. */
const spec: CommandSpec = {
  id: 'job:cancel',
  summary:
    'Cancel a batch job: a queued one leaves the line, a running one gets SIGTERM, then SIGKILL after 30 s',
  examples: ['<%= config.bin %> job cancel 5302066654b2'],
  args: [{name: 'job', description: 'job ID, unique ID prefix or name', required: true}],
  fast: true,
  load: () => import('./cancel.js'),
};

export default spec;
