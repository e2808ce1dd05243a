import {formatDuration} from '../../src/core/duration.js';
import {gpuDescription, stoppedGpu} from '../../src/session/banner.js';
import {ordinal, type QueuedView} from '../../src/session/session-queue.js';
import type {SessionView} from '../../src/session/session-view.js';
import type {Handler} from '../../cli/command-spec.js';
import {loadChalk, relativeTime, renderTable} from '../../cli/output.js';

/** Sessions, then the queued creates (STATUS queued, their place in line); `--expired` only sessions. */
const ls: Handler = async ({flags}, context): Promise<Array<SessionView | QueuedView>> => {
  const {out} = context;
  const {sessions, queued} = await (
    await context.services().sessionQueries()
  ).overview({user: flags.user as string | undefined, expired: flags.expired === true});
  if (out.json) return [...sessions, ...queued];
  if (flags.quiet) {
    for (const entry of [...sessions, ...queued]) out.log(entry.session_id);
    return [...sessions, ...queued];
  }
  const waiting = queued.map((entry) => [
    entry.session_id,
    entry.ssh_user,
    `queued (${ordinal(entry.queue_position)})`,
    entry.waiting_for,
    '-',
    relativeTime(entry.queued_at),
    '-',
    '-',
  ]);
  // docs/admin/sessions.md "The in-session command": KEEP and EXTENDED BY, only when a listed session has one.
  const extra = sessions.some((session) => session.keep_until || session.last_extended_by);
  const rows = sessions.map((session) => [
    session.session_id,
    session.ssh_user,
    session.status,
    stoppedGpu(session) ?? gpuDescription(session),
    session.ssh_port,
    relativeTime(session.created_at),
    // Stopped: the clock is paused, so the time left rather than a moment.
    session.status === 'stopped'
      ? `${formatDuration(session.remaining_ms ?? 0)} left`
      : relativeTime(session.expires_at),
    idleFor(session.last_active_at),
    ...(extra
      ? [
          session.keep_until && Date.parse(session.keep_until) > Date.now()
            ? relativeTime(session.keep_until)
            : '-',
          session.last_extended_by ?? '-',
        ]
      : []),
  ]);
  out.log(
    await renderTable(
      [
        'ID',
        'USER',
        'STATUS',
        'GPU',
        'PORT',
        'CREATED',
        'EXPIRES',
        'IDLE',
        ...(extra ? ['KEEP', 'EXTENDED BY'] : []),
      ],
      [...rows, ...waiting.map((row) => [...row, ...(extra ? ['-', '-'] : [])])],
      await loadChalk(out.colour),
    ),
  );
  return [...sessions, ...queued];
};
export default ls;

/** Time since the reaper last saw the session active; "-" when it has not looked (idleTimeout off). */
function idleFor(lastActive: string | null): string {
  return lastActive === null ? '-' : formatDuration(Math.max(0, Date.now() - Date.parse(lastActive)));
}
