import type {CommandSpec} from '../../../cli/command-spec.js';

/** `sandman user key add`: help, arguments and flags (data only); its handler is add.ts. */
const spec: CommandSpec = {
  id: 'user:key:add',
  summary: "Add public keys to a user's registered keys",
  examples: [
    '<%= config.bin %> user key add alice ~/alice-new.pub',
    'cat id.pub | <%= config.bin %> user key add alice -',
  ],
  args: [
    {name: 'name', description: 'login name', required: true},
    {name: 'file', description: "public key file ('-' reads stdin)", required: true},
  ],
  fast: true,
  load: () => import('./add.js'),
};

export default spec;
