import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman systemd install`: help, arguments and flags (data only); its handler is install.ts. */
const spec: CommandSpec = {
  id: 'systemd:install',
  summary: "Write the reaper's systemd service and timer to DIR",
  examples: [
    '<%= config.bin %> systemd install && systemctl daemon-reload && systemctl enable --now sandman-reap.timer',
    '<%= config.bin %> systemd install --dir /tmp/units',
  ],
  flags: {
    dir: {kind: 'string', description: 'where to write the units', default: '/etc/systemd/system'},
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
  fast: true,
  load: () => import('./install.js'),
};

export default spec;
