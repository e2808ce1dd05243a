import type {Clock} from '../core/clock.js';
import {isoSeconds} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {formatDuration} from '../core/duration.js';
import {conflict, notFound, policy} from '../core/errors.js';
import type {StateStore} from '../state/state-store.js';
import type {SessionRecord} from '../state/state-data.js';
import {effectiveLimits} from '../users/user-limits.js';

/**
 * `sandman keep DURATION` inside a session (docs/admin/sessions.md "The in-session command"): the reaper does not stop it
 * for idleness until then. At most the user's userMaxKeep from now (0: not allowed, exit 8); only
 * a running session; its expiry still applies.
 */
export async function keepSession(
  deps: {store: StateStore; clock: Clock; config: Config},
  sessionId: string,
  milliseconds: number,
): Promise<SessionRecord> {
  return deps.store.update((state) => {
    const session = state.sessions.find((candidate) => candidate.id === sessionId);
    if (!session) throw notFound(`no session ${sessionId}`);
    if (session.status !== 'running')
      throw conflict(`session ${session.id} is ${session.status}; only a running session can be kept`);
    const limit = effectiveLimits(deps.config, session.user, state.users[session.user]).userMaxKeep;
    if (limit.value === 0)
      throw policy(
        `${session.user} may not keep sessions from idle stops (userMaxKeep 0, from ${limit.source})`,
      );
    if (milliseconds > limit.value)
      throw policy(
        `${session.user} may keep a session for at most ${formatDuration(limit.value)} (userMaxKeep, from ` +
          `${limit.source}); asked: ${formatDuration(milliseconds)}`,
      );
    session.keep_until = isoSeconds(new Date(deps.clock.now().getTime() + milliseconds));
    return {...session};
  });
}
