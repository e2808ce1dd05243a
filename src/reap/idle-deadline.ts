import type {Config} from '../config/config.js';
import type {SessionRecord} from '../state/state-data.js';

/**
 * Since when a running session has been idle and when it will be stopped for idleness if nothing
 * changes (README "The reaper"), as the reaper's idle rule judges it; undefined when it will not be
 * (idleTimeout off, or `sandman keep` holds it). The notices' "idle stop ahead" reads this one
 * function, so another rule (GPU utilisation) plugs in here.
 */
export function idleStopAt(
  session: Pick<SessionRecord, 'status' | 'last_active_at' | 'created_at' | 'keep_until'>,
  config: Pick<Config, 'idleTimeout'>,
  now: number,
): {idleSince: number; stopAt: number} | undefined {
  if (config.idleTimeout === undefined || session.status !== 'running') return undefined;
  if (session.keep_until && Date.parse(session.keep_until) > now) return undefined;
  const idleSince = Date.parse(session.last_active_at ?? session.created_at);
  return {idleSince, stopAt: idleSince + config.idleTimeout};
}
