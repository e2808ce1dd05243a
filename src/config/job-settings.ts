// Batch jobs (docs/admin/jobs.md): how many a user runs at once, how long, and what is kept.
import {byteSize, duration, integerIn, type Settings} from './setting.js';

export const JOB_SETTINGS = {
  userMaxJobs: {
    description:
      'batch jobs one user may run at once; more wait in line (a group or the user may set their own)',
    parse: integerIn(1, 1000),
    default: 1,
  },
  jobMaxTtl: {
    description:
      "longest run time of a batch job (job submit --ttl; the default), within the user's userMaxTtl",
    parse: duration,
    default: '24h',
  },
  jobRetention: {
    description: 'ended batch jobs stay listed (job ls --all, job show) this long',
    parse: duration,
    default: '7d',
  },
  jobLogLimit: {
    description: "a job's log (~/.sandman/jobs/ID.log) keeps at most this much of its newest output",
    parse: byteSize,
    default: '50m',
  },
} satisfies Settings;
