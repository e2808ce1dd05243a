import type {CommandSpec} from '../../../cli/command-spec.js';

/** `sandman user key ls`: help, arguments and flags (data only); its handler is ls.ts. */
const spec: CommandSpec = {
  id: 'user:key:ls',
  summary: "List a user's keys with their fingerprints",
  examples: ['<%= config.bin %> user key ls alice'],
  args: [{name: 'name', description: 'login name', required: true}],
  fast: true,
  load: () => import('./ls.js'),
};

export default spec;
