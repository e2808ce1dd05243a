import type {CommandSpec} from '../cli/command-spec.js';

/** `sandman gateway`: help, arguments and flags (data only); its handler is gateway.ts. */
const spec: CommandSpec = {
  id: 'gateway',
  summary: 'The SSH gateway for one connection; started per connection by systemd socket activation',
  description:
    'ssh -p gatewayPort USER@host logs USER in with their registered keys, starts their session when they ' +
    'have none and relays to it (docs/admin/gateway.md "The SSH gateway"). Install with sandman setup --gateway; without systemd, ' +
    '--listen HOST:PORT serves every connection in the foreground under a supervisor (docs/admin/http-api.md "Without systemd").',
  examples: [
    'systemd-socket-activate --accept -l 2200 <%= config.bin %> gateway',
    '<%= config.bin %> gateway --listen 0.0.0.0:2200',
  ],
  flags: {
    listen: {
      kind: 'string',
      description:
        'accept every connection on HOST:PORT in the foreground until SIGTERM (a supervisor without systemd)',
    },
  },
  fast: true,
  load: () => import('./gateway.js'),
};

export default spec;
