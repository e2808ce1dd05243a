import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman gpu profiles`: help, arguments and flags (data only); its handler is profiles.ts. */
const spec: CommandSpec = {
  id: 'gpu:profiles',
  summary: 'MIG profiles the GPUs support, with memory, slices and free/total counts',
  description:
    'DEVICES counts the MIG devices that exist (pool mode hands these out); INSTANCES is what nvidia-smi could still create (dynamic mode).',
  examples: ['<%= config.bin %> gpu profiles', '<%= config.bin %> gpu profiles --json'],
  fast: true,
  load: () => import('./profiles.js'),
};

export default spec;
