import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman job ls`: help, arguments and flags (data only); its handler is ls.ts. */
const spec: CommandSpec = {
  id: 'job:ls',
  summary: 'List batch jobs: queued and running ones (--all: also those ended within jobRetention)',
  hiddenAliases: ['job:list'],
  examples: ['<%= config.bin %> job ls', '<%= config.bin %> job ls --user alice --all --json'],
  flags: {
    user: {kind: 'string', description: "only this user's jobs"},
    all: {kind: 'boolean', description: 'also jobs that ended (kept for jobRetention)'},
  },
  fast: true,
  load: () => import('./ls.js'),
};

export default spec;
