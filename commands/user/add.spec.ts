import type {CommandSpec} from '../../cli/command-spec.js';
import {USER_EXCLUSIVE, USER_FLAGS} from './user-flags.js';

/** `sandman user add`: help, arguments and flags (data only); its handler is add.ts. */
const spec: CommandSpec = {
  id: 'user:add',
  summary: 'Register a user: public keys, group, defaults for new sessions, limits',
  description:
    "A registered user's keys are what their sessions accept when create gets no --ssh-key (no private key is " +
    "made); their defaults fill in what create leaves open; their limits override the group's and the settings.",
  examples: [
    '<%= config.bin %> user add alice --ssh-key alice.pub --group students --profile 3g.20gb --ttl 4h',
    '<%= config.bin %> user add bob --ssh-key bob-laptop.pub --ssh-key bob-desktop.pub --gpu-hours 40h/7d',
  ],
  args: [{name: 'name', description: 'login name', required: true}],
  flags: USER_FLAGS,
  exclusive: USER_EXCLUSIVE,
  fast: true,
  load: () => import('./add.js'),
};

export default spec;
