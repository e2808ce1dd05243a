import type {Clock} from '../core/clock.js';
import {invalidInput} from '../core/errors.js';
import {parseDuration} from '../core/duration.js';
import type {StateStore} from '../state/state-store.js';
import type {Warn} from '../core/warn.js';
import type {AuditHistory} from './audit-history.js';
import {
  gpuHoursOf,
  intervalsFromAudit,
  summarise,
  type Interval,
  type UsageGroup,
  type UsageReport,
} from './usage-report.js';

export const USAGE_GROUPS: UsageGroup[] = ['user', 'profile', 'gpu', 'day', 'kind'];

/** `--since 30d` (that long before now) or a date (`2026-11-01`, ISO time); undefined → default. */
export function parseWhen(text: string, now: number, what: string): number {
  if (/^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(text)) {
    const time = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
    if (Number.isFinite(time)) return time;
  }
  try {
    return now - parseDuration(text, what);
  } catch {
    throw invalidInput(
      `invalid ${what} ${JSON.stringify(text)}: give a date (2026-11-01) or a duration back from now (30d)`,
    );
  }
}

export class UsageService {
  constructor(
    private readonly history: AuditHistory,
    private readonly store: StateStore,
    private readonly clock: Clock,
    private readonly warn: Warn,
  ) {}

  async report(request: {since?: string; until?: string; by?: string}): Promise<UsageReport> {
    const now = this.clock.now().getTime();
    const by = (request.by ?? 'user') as UsageGroup;
    if (!USAGE_GROUPS.includes(by))
      throw invalidInput(`invalid --by ${JSON.stringify(request.by)}: one of ${USAGE_GROUPS.join(', ')}`);
    const since = parseWhen(request.since ?? '30d', now, '--since');
    const until = request.until === undefined ? now : parseWhen(request.until, now, '--until');
    if (until <= since) throw invalidInput('--until must come after --since');
    const {intervals, skipped} = await this.#intervals(now);
    if (skipped > 0)
      this.warn(`skipped ${skipped} line(s) of the audit log that are not audit lines (torn or foreign)`);
    return summarise(intervals.values(), {since, until, by}, skipped);
  }

  /** A user's GPU-hours over the last `windowMs` (docs/admin/users-and-limits.md "Users and limits": gpuHourBudget). */
  async gpuHours(user: string, windowMs: number): Promise<{used: number; oldestLeavesAt: number | null}> {
    const now = this.clock.now().getTime();
    const {intervals} = await this.#intervals(now);
    const {used, oldestStart} = gpuHoursOf(intervals.values(), user, {since: now - windowMs, until: now});
    return {used, oldestLeavesAt: oldestStart === null ? null : oldestStart + windowMs};
  }

  /** Several users' GPU-hours, each over their own window, from one read of the audit log. */
  async gpuHoursOfUsers(users: Array<{user: string; windowMs: number}>): Promise<Map<string, number>> {
    if (users.length === 0) return new Map();
    const now = this.clock.now().getTime();
    const {intervals} = await this.#intervals(now);
    return new Map(
      users.map(({user, windowMs}) => [
        user,
        gpuHoursOf(intervals.values(), user, {since: now - windowMs, until: now}).used,
      ]),
    );
  }

  /** Every session's interval: the audit log's, with the sessions still running counted up to now. */
  async #intervals(now: number): Promise<{intervals: Map<string, Interval>; skipped: number}> {
    const [{lines}, state] = await Promise.all([this.history.lines(), this.store.read()]);
    const {intervals, skipped} = intervalsFromAudit(lines);
    // Sessions still running count up to now (their expiry from the log would cut them short).
    for (const session of state.sessions) {
      const known = intervals.get(session.id);
      // A stopped one whose stop line rotated away: stopped since the record says.
      const stopped =
        session.status === 'stopped' && session.stopped_at ? Date.parse(session.stopped_at) : undefined;
      if (known) {
        known.end = undefined;
        known.expires = now;
        if (stopped !== undefined && !known.stops?.some((stop) => stop.to === undefined))
          (known.stops ??= []).push({from: stopped});
      } else {
        intervals.set(session.id, {
          session: session.id,
          user: session.user,
          start: Date.parse(session.created_at),
          expires: now,
          profile: session.mig_profile,
          gpu: session.gpu_uuid,
          fraction: session.gpu_uuid ? undefined : null,
          ...(stopped !== undefined ? {stops: [{from: stopped}]} : {}),
        });
      }
    }
    // Jobs still running, likewise (docs/admin/jobs.md).
    for (const job of state.jobs ?? []) {
      if (job.state !== 'running' || !job.started_at) continue;
      const known = intervals.get(`job ${job.id}`);
      if (known) Object.assign(known, {end: undefined, expires: now});
      else
        intervals.set(`job ${job.id}`, {
          session: job.id,
          kind: 'job',
          user: job.user,
          start: Date.parse(job.started_at),
          expires: now,
          profile: job.mig_profile,
          gpu: job.gpu_uuid,
          fraction: job.gpu_uuid ? (job.gpu_fraction ?? undefined) : null,
        });
    }
    return {intervals, skipped};
  }
}
