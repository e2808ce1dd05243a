/**
 * GPU utilisation as an idle signal (docs/admin/notifications-and-idleness.md "GPU idleness"), as pure functions: how a reap's
 * sample changes a session's compact record, and the verdict on it. The verdict is plain data,
 * so whatever tells the user ("idle stop ahead at T because the GPU has been under X % since …")
 * reads the same numbers the reaper acts on.
 */
import {isoSeconds} from '../core/clock.js';
import {formatDuration} from '../core/duration.js';
import type {Config} from '../config/config.js';
import type {GpuUtilTrack, SessionRecord, StateData} from '../state/state-data.js';
import {effectiveLimits} from '../users/user-limits.js';

/**
 * A gap between two samples longer than this starts a new run: nothing is known of the time
 * between (the reaper did not run, nvidia-smi or dcgm-exporter did not answer).
 */
export const MAX_SAMPLE_GAP_MS = 15 * 60_000;

export interface GpuSample {
  percent: number;
  source: GpuUtilTrack['source'];
}

/**
 * The record after one reap. `sample` undefined: none could be read (the record stays as it was);
 * `ssh`: the reap saw an SSH connection into the session; `pid`: the container's main process
 * (another one: the session was started again, and a new run begins).
 */
export function nextGpuTrack(
  previous: GpuUtilTrack | null | undefined,
  sample: GpuSample | undefined,
  now: number,
  threshold: number,
  ssh: boolean,
  pid?: number,
): GpuUtilTrack | null {
  const at = isoSeconds(new Date(now));
  const sshAt = ssh ? at : (previous?.ssh_at ?? null);
  const sameRun = (previous?.pid ?? null) === (pid ?? null);
  if (!sample) return previous && sameRun ? {...previous, ssh_at: sshAt} : null;
  const continues =
    sameRun &&
    !!previous?.below_since &&
    now - Date.parse(previous.at) <= MAX_SAMPLE_GAP_MS &&
    previous.source === sample.source;
  const below = sample.percent < threshold;
  return {
    last: round(sample.percent),
    at,
    source: sample.source,
    below_since: below ? (continues ? previous.below_since : at) : null,
    below_max: below ? round(Math.max(sample.percent, continues ? (previous.below_max ?? 0) : 0)) : null,
    ssh_at: sameRun ? sshAt : ssh ? at : null,
    ...(pid !== undefined ? {pid} : {}),
  };
}

export interface GpuIdleVerdict {
  /**
   * off: idleGpuWindow is 0 for this user; no-sample: nothing read (a MIG device without
   * dcgm-exporter: the process rule applies); active: the last sample is at or over the
   * threshold; below: under it, not yet for the window (idle_at says when); idle: under it for
   * the window: the reaper stops the session.
   */
  state: 'off' | 'no-sample' | 'active' | 'below' | 'idle';
  threshold: number;
  window_ms: number;
  /** The last sample, when and where from. */
  percent: number | null;
  sampled_at: string | null;
  source: GpuUtilTrack['source'] | null;
  /** The run of samples under the threshold: when it began and its highest sample. */
  below_since: string | null;
  below_max: number | null;
  /** When the GPU rule stops the session if nothing changes (state below or idle). */
  idle_at: string | null;
  /** What puts idle_at off: `sandman keep` (keep_until), or an SSH connection (its last reap). */
  held_by: 'keep' | 'ssh' | null;
  /** The verdict in words, for session show and the audit line. */
  text: string;
}

/** The verdict on a session's record at `now`, under the user's threshold (percent) and window (ms). */
export function gpuIdleVerdict(
  session: Pick<SessionRecord, 'gpu_util' | 'keep_until'>,
  limits: {threshold: number; windowMs: number},
  now: number,
): GpuIdleVerdict {
  const track = session.gpu_util ?? null;
  const base = {
    threshold: limits.threshold,
    window_ms: limits.windowMs,
    percent: track?.last ?? null,
    sampled_at: track?.at ?? null,
    source: track?.source ?? null,
    below_since: track?.below_since ?? null,
    below_max: track?.below_max ?? null,
    idle_at: null,
    held_by: null,
  };
  const last = track ? `last ${track.last} % at ${clock(track.at)} (${track.source})` : '';
  if (limits.windowMs === 0) return {...base, state: 'off', text: 'GPU idle rule off (idleGpuWindow 0)'};
  if (!track || now - Date.parse(track.at) > MAX_SAMPLE_GAP_MS)
    return {
      ...base,
      state: 'no-sample',
      text: `no recent GPU utilisation sample${track ? `; ${last}` : ''}: the process rule applies`,
    };
  // A run judged under a higher threshold (the limit changed since) is not under this one.
  if (!track.below_since || (track.below_max ?? 0) >= limits.threshold)
    return {...base, state: 'active', text: `GPU at or over ${limits.threshold} %: ${last}`};
  const since = Date.parse(track.below_since);
  const ssh = track.ssh_at ? Date.parse(track.ssh_at) : 0;
  const keep = session.keep_until ? Date.parse(session.keep_until) : 0;
  let due = Math.max(since, ssh) + limits.windowMs;
  let heldBy: GpuIdleVerdict['held_by'] = ssh > since ? 'ssh' : null;
  if (keep > due) {
    due = keep;
    heldBy = 'keep';
  }
  const idleAt = isoSeconds(new Date(due));
  const under =
    `GPU under ${limits.threshold} % since ${clock(track.below_since)} ` +
    `(${formatDuration(now - since)}; max ${track.below_max} %, ${last})`;
  const held = heldBy === 'keep' ? ', kept by sandman keep' : heldBy === 'ssh' ? ', SSH activity' : '';
  if (now >= due)
    return {
      ...base,
      state: 'idle',
      idle_at: idleAt,
      held_by: heldBy,
      text: `${under}: idle for idleGpuWindow ${formatDuration(limits.windowMs)}`,
    };
  return {
    ...base,
    state: 'below',
    idle_at: idleAt,
    held_by: heldBy,
    text: `${under}: idle stop at ${clock(idleAt)}${held}`,
  };
}

/** The verdict on one session under its user's limits (user → group → setting). */
export function sessionGpuVerdict(
  config: Config,
  state: Pick<StateData, 'users'>,
  session: SessionRecord,
  now: number,
): GpuIdleVerdict {
  const limits = effectiveLimits(config, session.user, state.users[session.user]);
  return gpuIdleVerdict(
    session,
    {threshold: limits.idleGpuThreshold.value, windowMs: limits.idleGpuWindow.value},
    now,
  );
}

const round = (value: number) => Math.round(value * 100) / 100;
/** `2026-12-07 03:00:00 UTC` */
const clock = (iso: string) => iso.replace('T', ' ').replace('Z', ' UTC');
