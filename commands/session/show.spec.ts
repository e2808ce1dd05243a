import type {CommandSpec} from '../../cli/command-spec.js';
import {SESSION_ARG} from '../../cli/spec-parts.js';

/** `sandman session show`: help, arguments and flags (data only); its handler is show.ts. */
const spec: CommandSpec = {
  id: 'session:show',
  summary: 'Show one session in full',
  examples: ['<%= config.bin %> session show alice', '<%= config.bin %> session show 7f3a --json'],
  args: [SESSION_ARG],
  fast: true,
  load: () => import('./show.js'),
};

export default spec;
