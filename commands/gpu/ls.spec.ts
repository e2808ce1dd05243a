import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman gpu ls`: help, arguments and flags (data only); its handler is ls.ts. */
const spec: CommandSpec = {
  id: 'gpu:ls',
  summary: 'List GPUs, their MIG devices and which session holds each',
  hiddenAliases: ['gpu:list'],
  examples: [
    '<%= config.bin %> gpu ls',
    '<%= config.bin %> gpu ls --json | jq ".[].mig_devices[] | select(.session_id == null)"',
  ],
  fast: true,
  load: () => import('./ls.js'),
};

export default spec;
