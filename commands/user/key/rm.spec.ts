import type {CommandSpec} from '../../../cli/command-spec.js';

/** `sandman user key rm`: help, arguments and flags (data only); its handler is rm.ts. */
const spec: CommandSpec = {
  id: 'user:key:rm',
  summary: "Remove one of a user's keys by its fingerprint",
  examples: ['<%= config.bin %> user key rm alice SHA256:Ew0y4jGJ6jRLpqzGk1G2bYXnDZcO2m2J1V0kcQ1cD9g'],
  args: [
    {name: 'name', description: 'login name', required: true},
    {
      name: 'fingerprint',
      description: 'SHA256:… as user key ls (or ssh-keygen -lf) prints it',
      required: true,
    },
  ],
  fast: true,
  load: () => import('./rm.js'),
};

export default spec;
