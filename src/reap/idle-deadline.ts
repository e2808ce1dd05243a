import type {Config} from '../config/config.js';
import {sessionGpuVerdict} from '../gpu/gpu-idle-verdict.js';
import type {SessionRecord, StateData} from '../state/state-data.js';

export interface IdleDeadline {
  idleSince: number;
  stopAt: number;
}

/**
 * Since when a running session has been idle and when it will be stopped for idleness if nothing
 * changes, by whichever rule comes first: the process/SSH/CPU rule (idleTimeout, docs/admin/reaper.md "The reaper") or the GPU utilisation rule (idleGpuWindow, docs/admin/notifications-and-idleness.md "GPU idleness"); undefined when
 * neither will (both off, or `sandman keep` holds it). The notices' "idle stop ahead" reads this
 * one function.
 */
export function idleStopAt(
  session: SessionRecord,
  config: Config,
  users: StateData['users'],
  now: number,
): IdleDeadline | undefined {
  if (session.status !== 'running') return undefined;
  if (session.keep_until && Date.parse(session.keep_until) > now) return undefined;
  const rules = [processRule(session, config), gpuRule(session, config, users, now)].filter(
    (rule): rule is IdleDeadline => rule !== undefined,
  );
  return rules.sort((a, b) => a.stopAt - b.stopAt)[0];
}

/** idleTimeout after the session was last seen active (or made). */
function processRule(session: SessionRecord, config: Config): IdleDeadline | undefined {
  if (config.idleTimeout === undefined) return undefined;
  const idleSince = Date.parse(session.last_active_at ?? session.created_at);
  return {idleSince, stopAt: idleSince + config.idleTimeout};
}

/** idleGpuWindow after the device's utilisation went under idleGpuThreshold (src/gpu/gpu-idle-verdict.ts). */
function gpuRule(
  session: SessionRecord,
  config: Config,
  users: StateData['users'],
  now: number,
): IdleDeadline | undefined {
  const verdict = sessionGpuVerdict(config, {users}, session, now);
  if ((verdict.state !== 'below' && verdict.state !== 'idle') || !verdict.idle_at || !verdict.below_since)
    return undefined;
  const stopAt = Date.parse(verdict.idle_at);
  return {idleSince: Math.min(Date.parse(verdict.below_since), stopAt), stopAt};
}
