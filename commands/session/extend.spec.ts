import type {CommandSpec} from '../../cli/command-spec.js';
import {SESSION_ARG} from '../../cli/spec-parts.js';

/** `sandman session extend`: help, arguments and flags (data only); its handler is extend.ts. */
const spec: CommandSpec = {
  id: 'session:extend',
  summary: 'Push a session’s expiry further out',
  description: 'Adds --ttl to the current expiry, up to maxTtl after the session was created.',
  examples: [
    '<%= config.bin %> session extend alice --ttl 30m',
    '<%= config.bin %> session extend 7f3a --ttl 1d --json',
  ],
  args: [SESSION_ARG],
  flags: {
    ttl: {
      kind: 'string',
      description: 'how much longer: 30m, 2h, 1d, or minutes as a number',
      required: true,
    },
  },
  fast: true,
  load: () => import('./extend.js'),
};

export default spec;
