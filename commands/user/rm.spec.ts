import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman user rm`: help, arguments and flags (data only); its handler is rm.ts. */
const spec: CommandSpec = {
  id: 'user:rm',
  summary: "Forget a user's registration (never their home)",
  description: 'Refuses while the user has sessions (exit 4) unless --force, which removes them first.',
  hiddenAliases: ['user:remove'],
  examples: ['<%= config.bin %> user rm alice', '<%= config.bin %> user rm alice --force'],
  args: [{name: 'name', description: 'login name', required: true}],
  flags: {force: {kind: 'boolean', description: "remove the user's sessions first (homes kept)"}},
  fast: true,
  load: () => import('./rm.js'),
};

export default spec;
