import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman network status`: help, arguments and flags (data only); its handler is status.ts. */
const spec: CommandSpec = {
  id: 'network:status',
  summary: 'Show the firewall rules that keep sessions away from the host and each other',
  description:
    'Exits 1 when a rule is missing or altered (after a firewall reload or a reboot); "sandman reap" restores them.',
  examples: ['<%= config.bin %> network status', '<%= config.bin %> network status --json'],
  fast: true,
  load: () => import('./status.js'),
};

export default spec;
