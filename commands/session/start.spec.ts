import type {CommandSpec} from '../../cli/command-spec.js';
import {SESSION_ARG} from '../../cli/spec-parts.js';

/** `sandman session start`: help, arguments and flags (data only); its handler is start.ts. */
const spec: CommandSpec = {
  id: 'session:start',
  summary: 'Start a stopped session again, on its own GPU device when still free',
  description:
    'Gets a device of the session’s profile (its own when free, else another: the stopped container is ' +
    'committed and made again on it, same port, keys, host key and home); none free: exit 5.',
  examples: ['<%= config.bin %> session start alice', '<%= config.bin %> session start 7f3a --queue --json'],
  args: [SESSION_ARG],
  flags: {
    queue: {
      kind: 'boolean',
      description:
        'nothing free: wait in line (started by whatever frees a device of its kind) instead of exit 5',
    },
  },
  fast: true,
  load: () => import('./start.js'),
};

export default spec;
