import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman systemd print`: help, arguments and flags (data only); its handler is print.ts. */
const spec: CommandSpec = {
  id: 'systemd:print',
  summary: "Print the reaper's systemd service and timer (and the cron alternative)",
  flags: {
    api: {kind: 'boolean', description: "the API's .socket and .service instead of the reaper's units"},
    'self-serve': {
      kind: 'boolean',
      description:
        "the in-session sandman's .socket (sessions network gateway, selfServicePort) and .service instead",
    },
    gateway: {
      kind: 'boolean',
      description: "the SSH gateway's .socket and .service@ instead of the reaper's units",
    },
  },
  examples: [
    '<%= config.bin %> systemd print',
    '<%= config.bin %> systemd print --json | jq -r \'.units["sandman-reap.timer"]\'',
  ],
  fast: true,
  load: () => import('./print.js'),
};

export default spec;
