/** What each notice says (docs/admin/notifications-and-idleness.md "Notifications"): one line people read, and a mail subject. */
import {formatDuration} from '../core/duration.js';
import type {NoticeEvent} from '../state/state-data.js';

export const SUBJECTS: Record<NoticeEvent, string> = {
  'expiry-ahead': 'your session ends soon',
  'idle-stop-ahead': 'your idle session will be stopped soon',
  'idle-stopped': 'your idle session was stopped',
  'idle-removed': 'your idle session was removed',
  'expired-removed': 'your session ended',
  'queue-started': 'your queued session started',
  'budget-80': 'you used 80 % of your GPU-hour budget',
  'budget-100': 'you used all of your GPU-hour budget',
  'disk-90': 'your home is nearly full',
  'job-finished': 'your job finished',
  'job-failed': 'your job failed',
  'job-timeout': 'your job ran out of time',
  'job-started': 'your job started',
  test: 'test notice',
};

/** `2026-12-07 04:30 UTC` */
export function utc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

export const noticeTexts = {
  expiryAhead: (id: string, user: string, endsAt: number, now: number) =>
    `Session ${id} (${user}) ends in ${formatDuration(endsAt - now)}, at ${utc(endsAt)}: save your work ` +
    '(files in the home directory are kept, everything else is removed).',
  idleStopAhead: (id: string, user: string, since: number, stopAt: number, now: number, remove: boolean) =>
    `Session ${id} (${user}) has been idle since ${utc(since)} and will be ${remove ? 'removed' : 'stopped'} ` +
    `for idleness ${stopAt > now ? `at ${utc(stopAt)} (in ${formatDuration(stopAt - now)})` : 'at the next reap'} unless it is used.`,
  idleStopped: (id: string, user: string) =>
    `Session ${id} (${user}) was stopped for idleness and its GPU given back; its files are kept ` +
    `("sandman session start ${id}" starts it again).`,
  idleRemoved: (id: string, user: string) =>
    `Session ${id} (${user}) was removed for idleness; the home directory is kept.`,
  expiredRemoved: (id: string, user: string) =>
    `Session ${id} (${user}) reached its end time and was removed; the home directory is kept.`,
  queueStarted: (id: string, user: string, waitingFor: string) =>
    `The queued request ${id} (${user}, for ${waitingFor}) started: the session is ready ("sandman session show ${id}").`,
  budget: (user: string, used: number, budget: number, window: string) =>
    `${user} has used ${used.toFixed(1)} of ${budget} GPU-hours in the last ${window} ` +
    `(${Math.floor((used / budget) * 100)} %)` +
    (used >= budget ? ': new GPU sessions are refused until hours leave the window.' : '.'),
  disk: (id: string, user: string, detail: string) =>
    `The home of ${user} (session ${id}) is nearly full: ${detail}. Writes stop at the limit.`,
  test: (user: string) => `This is a test notice for ${user}: this channel works.`,
};
