import type {Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {formatDuration} from '../core/duration.js';
import {isSandmanError, SandmanError} from '../core/errors.js';
import {ordinal, type QueuedView} from '../session/session-queue.js';
import type {ReapItem} from '../reap/reaper.js';
import type {CreateRequest, CreatedSession} from '../session/session-context.js';
import type {SessionRecord, UserRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import {effectiveLimits} from '../users/user-limits.js';
import {sessionTtl} from '../users/user-policy.js';

export interface SessionForUserDeps {
  config: Config;
  store: Pick<StateStore, 'read'>;
  /** `session create` with a place in line when asked (SessionService.createOrQueue). */
  create(request: CreateRequest): Promise<CreatedSession | QueuedView>;
  /** `session start` of a stopped session (docs/admin/sessions.md "Stop and start"). */
  start(sessionId: string): Promise<unknown>;
  /** An expired session no reap has removed yet, removed as the reaper does (Reaper.removeExpired). */
  removeExpired(session: SessionRecord): Promise<Pick<ReapItem, 'result' | 'error'>>;
  clock: Clock;
  sleep(ms: number): Promise<void>;
  /** A line for the user (the gateway writes it to their terminal's stderr). */
  say(line: string): void;
}

/** How often the state is read again while another process starts the session or the line moves. */
const POLL_MS = 250;

/**
 * The user's running session, started for them when they have none (docs/admin/gateway.md "The SSH gateway":
 * spawn on connect) with their defaults and limits, or in line when their default is to queue.
 * Concurrent first connections of one user make one session: the create is "only if none"
 * under the state lock, and the connections that lose wait for the one that won.
 */
export async function sessionForUser(deps: SessionForUserDeps, user: string): Promise<SessionRecord> {
  const {config, clock} = deps;
  // Another connection's create: it has readyTimeout for SSH, plus the lock and the engine's pace.
  const startingFor = config.readyTimeout + config.lockTimeout + 30_000;
  let startingSince: number | undefined;
  let queuedAs: string | undefined;
  let said = '';
  const sayOnce = (line: string) => {
    if (line !== said) deps.say((said = line));
  };
  for (;;) {
    const state = await deps.store.read();
    const mine = state.sessions.filter((session) => session.user === user);
    const running = mine.find((session) => session.status === 'running');
    if (running && Date.parse(running.expires_at) <= clock.now().getTime()) {
      await removeExpired(deps, running);
      continue;
    }
    if (running) {
      // Started by another connection or by the line: say so, as for one started here.
      if (said) deps.say(`sandman: session ${running.id} is ready: ${describeSession(running)}`);
      return running;
    }
    const starting = mine.find((session) => session.status === 'creating');
    const queued = state.queue?.find((entry) => entry.user === user && entry.kind !== 'job');
    if (starting) {
      sayOnce(`sandman: your session ${starting.id} is starting ...`);
      startingSince ??= clock.now().getTime();
      if (clock.now().getTime() - startingSince > startingFor)
        throw new SandmanError('FAILURE', `session ${starting.id} did not become ready; try again later`);
      await deps.sleep(POLL_MS);
      continue;
    }
    if (queued) {
      queuedAs = queued.id;
      const {queuedView} = await import('../session/session-queue.js');
      const view = queuedView(state, queued);
      sayOnce(
        `sandman: nothing free for you now (${view.waiting_for}); you are ${ordinal(view.queue_position)} in line`,
      );
      await deps.sleep(POLL_MS * 4);
      continue;
    }
    if (queuedAs)
      throw new SandmanError(
        'FAILURE',
        `your place in line (${queuedAs}) ended without a session: cancelled, or older than queueTimeout`,
      );
    const stopped = mine.find((session) => session.status === 'stopped');
    if (stopped) {
      sayOnce(`sandman: starting your stopped session ${stopped.id} ...`);
      try {
        await deps.start(stopped.id);
      } catch (error) {
        // Another connection is starting it: wait for that one.
        if (!(isSandmanError(error) && error.kind === 'CONFLICT')) throw error;
        await deps.sleep(POLL_MS);
      }
      continue;
    }
    const other = mine[0];
    if (other)
      throw new SandmanError(
        'CONFLICT',
        `your session ${other.id} is ${other.status}; try again in a moment`,
      );

    const person = state.users[user];
    sayOnce(`sandman: starting your session${describeDefaults(config, user, person)} ...`);
    try {
      const made = await deps.create({
        user,
        gpu: {kind: 'default'},
        env: [],
        password: false,
        wait: true,
        queue: person?.defaults?.queue ?? false,
        onlyIfNone: true,
      });
      if (made.status === 'queued') continue;
      const record = (await deps.store.read()).sessions.find((session) => session.id === made.session_id);
      if (record) {
        deps.say(`sandman: session ${record.id} is ready: ${describeSession(record)}`);
        return record;
      }
    } catch (error) {
      // Another connection of the same user won the create (or put them in line): wait for it.
      if (isSandmanError(error) && error.kind === 'CONFLICT') continue;
      throw error;
    }
  }
}

/**
 * Its container still accepts the gateway, but the session is over: it goes as a reap would take
 * it (home kept), and the loop then starts a new one as for a user with none.
 */
async function removeExpired(deps: SessionForUserDeps, session: SessionRecord): Promise<void> {
  const expired = `your session ${session.id} expired at ${session.expires_at.replace('T', ' ').replace('Z', ' UTC')}`;
  deps.say(`sandman: ${expired}; removing it (your home directory is kept) ...`);
  const removed = await deps.removeExpired(session);
  if (removed.result === 'failed')
    throw new SandmanError(
      'FAILURE',
      `${expired} and cannot be removed now (${removed.error}); the reaper tries again at its next run, ` +
        'then connecting starts a new session',
    );
}

/** The user's GPU default, and the TTL the session gets unless it is plain defaultTtl. */
function describeDefaults(config: Config, name: string, person: UserRecord | undefined): string {
  const parts: string[] = [];
  const gpu = person?.defaults?.gpu;
  if (gpu?.kind === 'profile') parts.push(`MIG ${gpu.profile}`);
  else if (gpu?.kind === 'none') parts.push('no GPU');
  else if (gpu?.kind === 'gpu') parts.push('a whole GPU');
  // Their own default, or defaultTtl cut to their userMaxTtl: what create will give.
  const ttl = sessionTtl(undefined, {name, record: person}, config, effectiveLimits(config, name, person));
  if (person?.defaults?.ttl || ttl !== config.defaultTtl) parts.push(`for ${formatDuration(ttl)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/** `MIG 3g.20gb on GPU 0, until 18:00 UTC (2026-12-03)`. */
export function describeSession(
  record: Pick<SessionRecord, 'gpu_uuid' | 'gpu_index' | 'mig_profile' | 'expires_at'>,
): string {
  const gpu = !record.gpu_uuid
    ? 'no GPU'
    : record.mig_profile
      ? `MIG ${record.mig_profile} on GPU ${record.gpu_index}`
      : `GPU ${record.gpu_index}`;
  const [date, time] = record.expires_at.split('T');
  return `${gpu}, until ${(time ?? '').slice(0, 5)} UTC (${date})`;
}
