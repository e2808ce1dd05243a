import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman session ls`: help, arguments and flags (data only); its handler is ls.ts. */
const spec: CommandSpec = {
  id: 'session:ls',
  summary: 'List sessions',
  hiddenAliases: ['session:list'],
  examples: [
    '<%= config.bin %> session ls',
    '<%= config.bin %> session ls --user alice --json',
    '<%= config.bin %> session ls -q | xargs -r <%= config.bin %> session rm',
  ],
  flags: {
    quiet: {kind: 'boolean', char: 'q', description: 'print session IDs only'},
    user: {kind: 'string', description: "only this user's sessions"},
    expired: {kind: 'boolean', description: 'only sessions past their expiry (what the next reap removes)'},
  },
  fast: true,
  load: () => import('./ls.js'),
};

export default spec;
