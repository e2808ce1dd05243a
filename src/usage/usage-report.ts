/**
 * `sandman usage` (docs/admin/users-and-limits.md "Usage accounting"): session-hours and GPU-hours per user, profile, GPU
 * or day, from the audit log plus the sessions still running, clipped to the period. Pure: the
 * lines come in as text, so a year of them (about 500,000) is one pass.
 */
export type UsageGroup = 'user' | 'profile' | 'gpu' | 'day' | 'kind';

export interface UsageRow {
  key: string;
  sessions: number;
  session_hours: number;
  /** Of session_hours, the time stopped (`session stop`: no GPU held, so no GPU-hours). */
  stopped_hours: number;
  /** A MIG slice counts as its fraction of the GPU (3g.20gb on a 7-slice GPU: 3/7), a whole GPU as 1. */
  gpu_hours: number;
  /** Sessions whose GPU share the log does not say (lines written before it recorded one). */
  unknown_gpu: number;
}

export interface UsageReport {
  since: string;
  until: string;
  by: UsageGroup;
  rows: UsageRow[];
  total: UsageRow;
  /** Lines that were not audit lines (torn, foreign): skipped, counted. */
  skipped_lines: number;
}

/** One session's life as the log (and the state file) tell it. */
export interface Interval {
  session: string;
  user: string;
  start: number;
  /** Undefined: still running, or its end was not logged (then it counts up to its expiry). */
  end?: number;
  /** The expiry the log last gave (create, extend). */
  expires?: number;
  profile: string | null;
  gpu: string | null;
  /** Share of a GPU; null: no GPU; undefined: not known (older lines). */
  fraction?: number | null;
  /** Times it was stopped (`session stop` to `session start`; no `to`: still stopped). */
  stops?: Array<{from: number; to?: number}>;
  /** A batch job's run (docs/admin/jobs.md), counted as a session's; absent: a session. */
  kind?: 'job';
}

interface AuditLine {
  time?: string;
  action?: string;
  session?: string | null;
  user?: string | null;
  result?: string;
  mig_profile?: string | null;
  gpu_uuid?: string | null;
  gpu_fraction?: number | null;
  expires_at?: string;
  /** reap lines: false when the session was started again, not removed. */
  ended?: boolean;
  /** job-start, job-end lines: the job. */
  job?: string;
}

/** The sessions' intervals in audit lines (any order of files; lines are keyed by session). */
export function intervalsFromAudit(lines: Iterable<string>): {
  intervals: Map<string, Interval>;
  skipped: number;
} {
  const intervals = new Map<string, Interval>();
  let skipped = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    // Only create and end lines matter; cheap checks first (a year is half a million lines).
    if (
      !line.includes('"create"') &&
      !line.includes('"rm"') &&
      !line.includes('"reap"') &&
      !line.includes('"extend"') &&
      !line.includes('"stop"') &&
      !line.includes('"start"') &&
      !line.includes('"job-start"') &&
      !line.includes('"job-end"')
    ) {
      skipped += isAuditLine(line) ? 0 : 1;
      continue;
    }
    let entry: AuditLine;
    try {
      entry = JSON.parse(line) as AuditLine;
    } catch {
      skipped++;
      continue;
    }
    const time = Date.parse(entry.time ?? '');
    if (!Number.isFinite(time) || typeof entry.action !== 'string') {
      skipped++;
      continue;
    }
    // A job's run (docs/admin/jobs.md): from its start to its end, as a session's.
    if (entry.action === 'job-start' && entry.job && entry.result === 'ok') {
      intervals.set(`job ${entry.job}`, {
        session: entry.job,
        kind: 'job',
        user: entry.user ?? 'unknown',
        start: time,
        profile: entry.mig_profile ?? null,
        gpu: entry.gpu_uuid ?? null,
        fraction: 'gpu_fraction' in entry ? entry.gpu_fraction : undefined,
        expires: Date.parse(entry.expires_at ?? '') || undefined,
      });
      continue;
    }
    if (entry.action === 'job-end' && entry.job) {
      const run = intervals.get(`job ${entry.job}`);
      if (run) run.end = time;
      continue;
    }
    if (entry.result !== 'ok' || !entry.session) continue;
    const known = intervals.get(entry.session);
    if (entry.action === 'create') {
      intervals.set(entry.session, {
        ...known,
        session: entry.session,
        user: entry.user ?? 'unknown',
        start: time,
        profile: entry.mig_profile ?? known?.profile ?? null,
        gpu: entry.gpu_uuid ?? known?.gpu ?? null,
        fraction: 'gpu_fraction' in entry ? entry.gpu_fraction : undefined,
        expires: Date.parse(entry.expires_at ?? '') || undefined,
      });
    } else if (entry.action === 'extend') {
      if (known) known.expires = Date.parse(entry.expires_at ?? '') || known.expires;
    } else if (entry.action === 'stop') {
      if (known) (known.stops ??= []).push({from: time});
    } else if (entry.action === 'start') {
      const open = known?.stops?.at(-1);
      if (known && open && open.to === undefined) open.to = time;
      // A start may move it to another device of its kind; its expiry starts again from here.
      if (known) {
        known.gpu = entry.gpu_uuid ?? known.gpu;
        known.expires = Date.parse(entry.expires_at ?? '') || known.expires;
      }
    } else if (entry.action === 'rm' || (entry.action === 'reap' && entry.ended !== false)) {
      if (known) known.end = time;
      // An end whose create line rotated away: start unknown, so the session is not counted.
    }
  }
  return {intervals, skipped};
}

function isAuditLine(line: string): boolean {
  try {
    const entry = JSON.parse(line) as AuditLine;
    return typeof entry.action === 'string' && Number.isFinite(Date.parse(entry.time ?? ''));
  } catch {
    return false;
  }
}

const HOUR = 3_600_000;

/** Sums the intervals over [since, until), grouped. */
export function summarise(
  intervals: Iterable<Interval>,
  period: {since: number; until: number; by: UsageGroup},
  skipped = 0,
): UsageReport {
  const rows = new Map<string, UsageRow>();
  const add = (key: string, from: number, to: number, interval: Interval) => {
    const row = rows.get(key) ?? {
      key,
      sessions: 0,
      session_hours: 0,
      stopped_hours: 0,
      gpu_hours: 0,
      unknown_gpu: 0,
    };
    const hours = (to - from) / HOUR;
    const stopped = stoppedMs(interval, from, to) / HOUR;
    row.sessions++;
    row.session_hours += hours;
    row.stopped_hours += stopped;
    if (interval.fraction === undefined) row.unknown_gpu++;
    else if (interval.fraction !== null) row.gpu_hours += (hours - stopped) * interval.fraction;
    rows.set(key, row);
  };
  for (const interval of intervals) {
    const start = Math.max(interval.start, period.since);
    const end = Math.min(interval.end ?? interval.expires ?? period.until, period.until);
    if (end <= start) continue;
    if (period.by === 'day') {
      // Split at UTC midnights, so each day gets its own hours.
      for (let from = start; from < end;) {
        const midnight = Date.UTC(
          new Date(from).getUTCFullYear(),
          new Date(from).getUTCMonth(),
          new Date(from).getUTCDate() + 1,
        );
        const to = Math.min(end, midnight);
        add(new Date(from).toISOString().slice(0, 10), from, to, interval);
        from = to;
      }
      continue;
    }
    const key =
      period.by === 'kind'
        ? (interval.kind ?? 'session')
        : period.by === 'user'
          ? interval.user
          : period.by === 'profile'
            ? (interval.profile ??
              (interval.gpu ? 'whole GPU' : interval.fraction === undefined ? 'unknown' : 'no GPU'))
            : (interval.gpu ?? (interval.fraction === undefined ? 'unknown' : 'no GPU'));
    add(key, start, end, interval);
  }
  const round = (row: UsageRow): UsageRow => ({
    ...row,
    session_hours: Math.round(row.session_hours * 1e6) / 1e6,
    stopped_hours: Math.round(row.stopped_hours * 1e6) / 1e6,
    gpu_hours: Math.round(row.gpu_hours * 1e6) / 1e6,
  });
  const sorted = [...rows.values()].sort(
    (a, b) => b.gpu_hours - a.gpu_hours || b.session_hours - a.session_hours || (a.key < b.key ? -1 : 1),
  );
  const total = sorted.reduce(
    (sum, row) => ({
      key: 'TOTAL',
      sessions: sum.sessions + row.sessions,
      session_hours: sum.session_hours + row.session_hours,
      stopped_hours: sum.stopped_hours + row.stopped_hours,
      gpu_hours: sum.gpu_hours + row.gpu_hours,
      unknown_gpu: sum.unknown_gpu + row.unknown_gpu,
    }),
    {key: 'TOTAL', sessions: 0, session_hours: 0, stopped_hours: 0, gpu_hours: 0, unknown_gpu: 0},
  );
  return {
    since: new Date(period.since).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    until: new Date(period.until).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    by: period.by,
    rows: sorted.map(round),
    total: round(total),
    skipped_lines: skipped,
  };
}

/**
 * One user's GPU-hours between `since` and `until`, counted as `usage` counts them (a session of
 * unknown share counts as none), and when the earliest of them leaves the window: the moment the
 * used amount starts to fall, for a budget refusal to name.
 */
export function gpuHoursOf(
  intervals: Iterable<Interval>,
  user: string,
  period: {since: number; until: number},
): {used: number; oldestStart: number | null} {
  let used = 0;
  let oldestStart: number | null = null;
  for (const interval of intervals) {
    if (interval.user !== user || !interval.fraction) continue;
    const start = Math.max(interval.start, period.since);
    const end = Math.min(interval.end ?? interval.expires ?? period.until, period.until);
    if (end <= start) continue;
    used += ((end - start - stoppedMs(interval, start, end)) / HOUR) * interval.fraction;
    oldestStart = oldestStart === null ? start : Math.min(oldestStart, start);
  }
  return {used: Math.round(used * 1e6) / 1e6, oldestStart};
}

/** How much of [from, to) the session spent stopped. */
function stoppedMs(interval: Interval, from: number, to: number): number {
  let total = 0;
  for (const stop of interval.stops ?? []) {
    const start = Math.max(stop.from, from);
    const end = Math.min(stop.to ?? to, to);
    if (end > start) total += end - start;
  }
  return total;
}
