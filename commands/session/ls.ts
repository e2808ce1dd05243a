import {formatDuration} from '../../src/duration.js';
import {gpuDescription} from '../../src/session/banner.js';
import type {SessionView} from '../../src/session/session-view.js';
import type {Handler} from '../../cli/command-spec.js';
import {loadChalk, relativeTime, renderTable} from '../../cli/output.js';

const ls: Handler = async ({flags}, context): Promise<SessionView[]> => {
  const {out} = context;
  const sessions = await (
    await context.services().sessionQueries()
  ).list({user: flags.user as string | undefined, expired: flags.expired === true});
  if (out.json) return sessions;
  if (flags.quiet) {
    for (const session of sessions) out.log(session.session_id);
    return sessions;
  }
  const rows = sessions.map((session) => [
    session.session_id,
    session.ssh_user,
    session.status,
    gpuDescription(session),
    session.ssh_port,
    relativeTime(session.created_at),
    relativeTime(session.expires_at),
    idleFor(session.last_active_at),
  ]);
  out.log(
    await renderTable(
      ['ID', 'USER', 'STATUS', 'GPU', 'PORT', 'CREATED', 'EXPIRES', 'IDLE'],
      rows,
      await loadChalk(out.colour),
    ),
  );
  return sessions;
};
export default ls;

/** Time since the reaper last saw the session active; "-" when it has not looked (idleTimeout off). */
function idleFor(lastActive: string | null): string {
  return lastActive === null ? '-' : formatDuration(Math.max(0, Date.now() - Date.parse(lastActive)));
}
