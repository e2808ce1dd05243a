import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman gpu available`: help, arguments and flags (data only); its handler is available.ts. */
const spec: CommandSpec = {
  id: 'gpu:available',
  summary: 'MIG devices and whole GPUs that no session holds',
  description: 'In dynamic MIG mode, also what sandman could still create on demand.',
  examples: [
    '<%= config.bin %> gpu available',
    '<%= config.bin %> gpu available --json | jq -r ".devices[].uuid"',
  ],
  fast: true,
  load: () => import('./available.js'),
};

export default spec;
