import {formatDuration} from '../core/duration.js';
import type {ReaperLocation} from '../setup/setup-record.js';
import {REAP_INTERVAL_MINUTES, SERVICE_NAME, TIMER_NAME} from '../setup/systemd-units.js';

/** Intervals doctor lets pass without a reap before it says the reaper is not running. */
const MISSED_INTERVALS = 3;

export interface ReapFreshness {
  stale: boolean;
  detail: string;
  /** The likely cause for where the reaper runs from, and what to check (empty when fresh). */
  hint: string;
}

/**
 * Whether reaps happen (docs/admin/reaper.md "The reaper"): an installed timer or cron job that never runs (no
 * cron daemon, a disabled timer, a failing unit) lets sessions outlive their expiry unnoticed.
 * `lastReapAt` is the state's record of the last reap; `setupAt` when setup last ran, so a fresh
 * setup is given the same time for its first reap.
 */
export function reapFreshness(
  reaper: ReaperLocation,
  lastReapAt: string | null | undefined,
  setupAt: string | undefined,
  now: Date,
): ReapFreshness {
  const allowed = MISSED_INTERVALS * REAP_INTERVAL_MINUTES * 60_000;
  const ago = (time: string) => now.getTime() - Date.parse(time);
  const since = lastReapAt ?? setupAt;
  if (since !== undefined && ago(since) <= allowed) {
    const detail = lastReapAt
      ? `last reap ${formatDuration(ago(lastReapAt))} ago`
      : `no reap yet since setup ${formatDuration(ago(setupAt!))} ago`;
    return {stale: false, detail, hint: ''};
  }
  const last = lastReapAt
    ? `the last reap was ${formatDuration(ago(lastReapAt))} ago (${lastReapAt})`
    : `no reap has run since setup${setupAt ? ` (${setupAt})` : ''}`;
  return {
    stale: true,
    detail: `${last}, more than ${MISSED_INTERVALS} intervals of ${REAP_INTERVAL_MINUTES} minute(s): expired sessions are not removed`,
    hint: `${likelyCause(reaper)}; "sandman reap" by hand removes what is overdue now`,
  };
}

function likelyCause(reaper: ReaperLocation): string {
  if (reaper.kind === 'cron')
    return `likely no cron daemon runs, or the job fails: check that cron runs (pgrep -x cron || pgrep -x crond) and run the line in ${reaper.file} by hand`;
  const check = `check systemctl is-enabled ${TIMER_NAME}, systemctl is-active ${TIMER_NAME} and systemctl status ${SERVICE_NAME} (journalctl -u ${SERVICE_NAME} says why a run failed)`;
  if (reaper.kind === 'units')
    return `likely the timer in ${reaper.dir} was never enabled (setup only wrote it there): install and enable it (systemctl enable --now ${TIMER_NAME}), then ${check}`;
  return `likely the timer is disabled or stopped, or ${SERVICE_NAME} fails: ${check}`;
}
