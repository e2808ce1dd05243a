import type {CommandSpec} from '../cli/command-spec.js';

/** `sandman self-serve`: help, arguments and flags (data only); its handler is self-serve.ts. */
const spec: CommandSpec = {
  id: 'self-serve',
  summary:
    'Serve the in-session sandman command on the sockets systemd passes (exits when idle), or on --listen until SIGTERM',
  description:
    'Answers the `sandman` command inside sessions (docs/admin/sessions.md "The in-session command"): ' +
    "started by systemd socket activation on the sessions network's gateway address and selfServicePort " +
    '(sandman systemd install); serves until apiIdleTimeout passes without a request.',
  examples: [
    'systemd-socket-activate -l 172.18.0.1:2201 <%= config.bin %> self-serve',
    '<%= config.bin %> self-serve --listen 172.18.0.1:2201',
  ],
  flags: {
    listen: {
      kind: 'string',
      description:
        'bind HOST:PORT itself and serve in the foreground until SIGTERM (a supervisor without systemd)',
    },
  },
  fast: true,
  load: () => import('./self-serve.js'),
};

export default spec;
