import type {CommandSpec} from '../../cli/command-spec.js';
import {SESSION_ARG} from '../../cli/spec-parts.js';

/** `sandman session logs`: help, arguments and flags (data only); its handler is logs.ts. */
const spec: CommandSpec = {
  id: 'session:logs',
  summary: "Show a session container's logs (sshd and the entrypoint)",
  examples: [
    '<%= config.bin %> session logs alice',
    '<%= config.bin %> session logs alice -f',
    '<%= config.bin %> session logs 7f3a --tail 20 --json',
  ],
  args: [SESSION_ARG],
  flags: {
    follow: {kind: 'boolean', char: 'f', description: 'keep streaming new lines until interrupted'},
    tail: {kind: 'integer', description: 'only the last N lines', min: 0},
  },
  fast: true,
  load: () => import('./logs.js'),
};

export default spec;
