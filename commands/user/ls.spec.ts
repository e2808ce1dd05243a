import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman user ls`: help, arguments and flags (data only); its handler is ls.ts. */
const spec: CommandSpec = {
  id: 'user:ls',
  summary: 'List registered users',
  hiddenAliases: ['user:list'],
  examples: ['<%= config.bin %> user ls', '<%= config.bin %> user ls --json'],
  fast: true,
  load: () => import('./ls.js'),
};

export default spec;
