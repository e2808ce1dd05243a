import type {CommandSpec} from '../cli/command-spec.js';

/** `sandman api`: help, arguments and flags (data only); its handler is api.ts. */
const spec: CommandSpec = {
  id: 'api',
  summary: 'Serve the HTTP API on the sockets systemd passes (exits when idle), or on --listen until SIGTERM',
  description:
    'Started by systemd socket activation (sandman systemd install --api); serves until apiIdleTimeout passes without a request. ' +
    'Without systemd, --listen HOST:PORT binds the address itself and serves in the foreground under a supervisor (docs/admin/http-api.md "Without systemd").',
  examples: [
    'systemd-socket-activate -l /run/sandman/api.sock <%= config.bin %> api',
    '<%= config.bin %> api --listen 127.0.0.1:8080',
  ],
  flags: {
    listen: {
      kind: 'string',
      description:
        'bind HOST:PORT itself and serve in the foreground until SIGTERM (a supervisor without systemd); needs apiTokenFile',
    },
  },
  fast: true,
  load: () => import('./api.js'),
};

export default spec;
