import type {CommandSpec} from '../../cli/command-spec.js';
import {USER_EXCLUSIVE, USER_FLAGS} from './user-flags.js';

/** `sandman user set`: help, arguments and flags (data only); its handler is set.ts. */
const spec: CommandSpec = {
  id: 'user:set',
  summary: "Change a user's keys (adds), group, defaults or limits",
  description:
    'Only what is given changes. "inherit" removes a limit of the user\'s own; --group "" leaves the group.',
  examples: [
    '<%= config.bin %> user set alice --max-sessions 2 --max-ttl 2d',
    '<%= config.bin %> user set alice --gpu-hours inherit --group ""',
  ],
  args: [{name: 'name', description: 'login name', required: true}],
  flags: USER_FLAGS,
  exclusive: USER_EXCLUSIVE,
  fast: true,
  load: () => import('./set.js'),
};

export default spec;
