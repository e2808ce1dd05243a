import type {CommandSpec} from '../cli/command-spec.js';

/** `sandman doctor`: help, arguments and flags (data only); its handler is doctor.ts. */
const spec: CommandSpec = {
  id: 'doctor',
  summary: 'Check the host: Docker, image, network, GPUs, state file, port range, reaper',
  description: 'Exits 1 when a check fails; warnings do not change the exit code.',
  examples: [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --json | jq -r \'.checks[] | select(.status != "ok") | .name\'',
  ],
  flags: {
    'unit-dir': {
      kind: 'string',
      description: "where the reaper units are installed (default: where setup put them, else systemd's)",
    },
    'cron-file': {
      kind: 'string',
      description:
        'cron file that runs the reaper instead (default: where setup put it, else /etc/cron.d/sandman)',
    },
  },
  fast: true,
  load: () => import('./doctor.js'),
};

export default spec;
