import type {CommandSpec} from '../cli/command-spec.js';

/** `sandman reap`: help, arguments and flags (data only); its handler is reap.ts. */
const spec: CommandSpec = {
  id: 'reap',
  summary: 'Remove expired sessions and repair drift between the state file and Docker',
  description:
    'Removes expired sessions, containers of this instance without a record, records whose container is gone, ' +
    'creates that died half-way, and idle sessions when idleTimeout is set; warns terminals before expiry. ' +
    'Workspaces are kept. Safe to run concurrently and every minute (see "sandman systemd print").',
  examples: ['<%= config.bin %> reap', '<%= config.bin %> reap --dry-run', '<%= config.bin %> reap --json'],
  flags: {'dry-run': {kind: 'boolean', description: 'show what would be done, change nothing'}},
  fast: true,
  load: () => import('./reap.js'),
};

export default spec;
