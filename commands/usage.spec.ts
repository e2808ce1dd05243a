import type {CommandSpec} from '../cli/command-spec.js';

/** `sandman usage`: help, arguments and flags (data only); its handler is usage.ts. */
const spec: CommandSpec = {
  id: 'usage',
  summary:
    'Session-hours and GPU-hours per user, profile, GPU, day or kind (sessions, batch jobs) over a period',
  description:
    'From the audit log (rotated and gzipped files too) and the sessions still running, clipped to the period. ' +
    'A MIG slice counts as its share of the GPU (3g.20gb on a 7-slice GPU: 3/7), a whole GPU as 1.',
  examples: [
    '<%= config.bin %> usage',
    '<%= config.bin %> usage --since 2026-11-01 --until 2026-12-01 --by profile',
    '<%= config.bin %> usage --by day --csv > usage.csv',
  ],
  flags: {
    since: {
      kind: 'string',
      description: 'start: a date (2026-11-01) or a duration back from now (30d)',
      default: '30d',
    },
    until: {kind: 'string', description: 'end: a date or a duration back from now (default now)'},
    by: {
      kind: 'string',
      description: 'group by user, profile, gpu, day or kind (session or job)',
      default: 'user',
    },
    csv: {kind: 'boolean', description: 'comma-separated values, for a spreadsheet'},
  },
  fast: true,
  load: () => import('./usage.js'),
};

export default spec;
