import type {Config} from '../src/config.js';
import {gpuDescription} from '../src/session/banner.js';
import type {SessionView} from '../src/session/session-view.js';
import {loadChalk, relativeTime, renderTable, type CommandOutput} from './output.js';
import {sessionQueries} from './services.js';

export interface SessionListFlags {
  quiet?: boolean;
  user?: string;
  expired?: boolean;
}

/** `session ls`: shared by the oclif command and the fast path (cli/fast-path.ts). */
export async function listSessions(
  config: Config,
  flags: SessionListFlags,
  out: CommandOutput,
): Promise<SessionView[]> {
  const sessions = await (await sessionQueries(config)).list({user: flags.user, expired: flags.expired});
  if (out.json) return sessions;
  if (flags.quiet) {
    for (const session of sessions) out.log(session.session_id);
    return sessions;
  }
  const chalk = await loadChalk(out.colour);
  const rows = sessions.map((session) => [
    session.session_id,
    session.ssh_user,
    session.status,
    gpuDescription(session),
    session.ssh_port,
    relativeTime(session.created_at),
    relativeTime(session.expires_at),
  ]);
  out.log(await renderTable(['ID', 'USER', 'STATUS', 'GPU', 'PORT', 'CREATED', 'EXPIRES'], rows, chalk));
  return sessions;
}
