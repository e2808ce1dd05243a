import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman session rm`: help, arguments and flags (data only); its handler is rm.ts. */
const spec: CommandSpec = {
  id: 'session:rm',
  summary: 'Remove sessions (the workspace is kept)',
  description:
    'Removes the container, releases the GPU slice and port, deletes the key and the record. ' +
    "The user's workspace is never deleted.",
  hiddenAliases: ['session:remove'],
  examples: [
    '<%= config.bin %> session rm alice',
    '<%= config.bin %> session rm 7f3a9c2e1b04 bob',
    '<%= config.bin %> session rm --all --yes',
  ],
  args: [{name: 'sessions', description: 'session IDs, unique ID prefixes or user names'}],
  variadic: true,
  flags: {
    all: {kind: 'boolean', description: 'remove every session'},
    yes: {
      kind: 'boolean',
      char: 'y',
      description: 'do not ask for confirmation (needed for --all without a terminal)',
    },
  },
  fast: true,
  load: () => import('./rm.js'),
};

export default spec;
