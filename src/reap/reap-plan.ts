import type {ContainerSummary} from '../runtime/docker/container-client.js';
import {LABELS} from '../core/labels.js';
import type {SessionRecord} from '../state/state-data.js';

/** A create that has not finished after this long died half-way (docs/admin/reaper.md "The reaper"). */
export const STALE_RESERVATION_MS = 10 * 60_000;

export type ReapReason = 'expired' | 'dangling' | 'stale' | 'idle' | 'orphan' | 'stopped' | 'retention';

export interface ReapTarget {
  reason: ReapReason;
  session?: SessionRecord;
  container?: ContainerSummary;
  /** Why, in words, for the report and the audit line (the GPU rule's numbers). */
  detail?: string;
}

export interface ReapPlanInput {
  sessions: readonly SessionRecord[];
  /** Containers carrying this instance's label, listed BEFORE the sessions were read. */
  containers: readonly ContainerSummary[];
  now: number;
  /** Whether a process on this host is still alive (a crashed create's reservation is stale at once). */
  isAlive: (pid: number) => boolean;
  /** A stopped session is removed this long after it stopped (stoppedRetention). */
  stoppedRetentionMs: number;
}

/**
 * What a reap run should remove, decided from one snapshot. Pure. The caller lists containers
 * before reading the state, so a container a concurrent create is making always has its record
 * in the snapshot and is never taken for an orphan.
 */
export function planReap(input: ReapPlanInput): ReapTarget[] {
  const targets: ReapTarget[] = [];
  const byId = new Map(input.containers.map((container) => [container.id, container]));
  const recorded = new Set(input.sessions.map((session) => session.id));
  for (const session of input.sessions) {
    if (session.status === 'removing') {
      // A reap or rm that died while tearing this down: finish the job.
      targets.push({reason: 'expired', session});
    } else if (session.status === 'creating') {
      const age = input.now - Date.parse(session.created_at);
      if (age >= STALE_RESERVATION_MS || !input.isAlive(session.creator_pid))
        targets.push({reason: 'stale', session});
    } else if (session.status === 'stopped') {
      // Its TTL is paused (docs/admin/sessions.md "Stop and start"): it ends by retention, or with its container.
      if (session.container_id && !byId.has(session.container_id))
        targets.push({reason: 'dangling', session});
      else if (stoppedFor(session, input.now) >= input.stoppedRetentionMs)
        targets.push({reason: 'retention', session});
    } else if (Date.parse(session.expires_at) <= input.now) {
      targets.push({reason: 'expired', session});
    } else if (session.container_id && !byId.has(session.container_id)) {
      targets.push({reason: 'dangling', session});
    } else if (
      session.status === 'running' &&
      session.container_id &&
      isAtRest(byId.get(session.container_id)!)
    ) {
      // After a reboot, or a start that failed (a GPU device that no longer exists).
      targets.push({reason: 'stopped', session});
    }
  }
  for (const container of input.containers) {
    // A batch job's container is the job reaper's (src/jobs/job-reap.ts).
    if (container.labels[LABELS.job]) continue;
    const id = container.labels[LABELS.session];
    if (!id || !recorded.has(id)) targets.push({reason: 'orphan', container});
  }
  return targets;
}

/** A container that is neither running nor about to (Docker restarts it on its own then). */
export function isAtRest(container: Pick<ContainerSummary, 'state'>): boolean {
  return ['created', 'exited', 'dead'].includes(container.state);
}

/** How long a stopped session has been stopped (0 for one that is not). */
export function stoppedFor(session: Pick<SessionRecord, 'status' | 'stopped_at'>, now: number): number {
  return session.status === 'stopped' && session.stopped_at ? now - Date.parse(session.stopped_at) : 0;
}
