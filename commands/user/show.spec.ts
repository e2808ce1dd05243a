import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman user show`: help, arguments and flags (data only); its handler is show.ts. */
const spec: CommandSpec = {
  id: 'user:show',
  summary: 'Show a user: keys, group, defaults, each limit and where it comes from, GPU-hours used',
  examples: ['<%= config.bin %> user show alice', '<%= config.bin %> user show alice --json'],
  args: [{name: 'name', description: 'login name', required: true}],
  fast: true,
  load: () => import('./show.js'),
};

export default spec;
