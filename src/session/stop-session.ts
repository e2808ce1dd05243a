import {isoSeconds} from '../core/clock.js';
import {conflict, SandmanError} from '../core/errors.js';
import {LABELS} from '../core/labels.js';
import {countersOf, type SessionRecord, type StateData, type StoppedGpu} from '../state/state-data.js';
import {resolveSession} from './resolve.js';
import {toSessionView, type SessionView} from './session-view.js';
import {SessionContext, type SessionServiceDeps} from './session-context.js';
import {allocationOf, NO_GPU} from './session-records.js';
import type {SessionQueue} from './session-queue.js';

export interface StopResult extends SessionView {
  /** It was stopped already: nothing was done. */
  already: boolean;
  /** The device given back now; null: none (no GPU, or held for gpuHoldAfterStop). */
  gpu_freed: string | null;
  /** Swarm mode: what a stop loses there. */
  note?: string;
}

/**
 * `session stop` (docs/admin/sessions.md "Stop and start"): a stopped session keeps its container (with its
 * writable layer), port, keys, host identity and home, and gives back its GPU device and its place
 * under maxSessions; its TTL clock pauses. StartWorkflow (start-session.ts) brings it back.
 */
export class StopWorkflow {
  readonly #deps: SessionServiceDeps;
  readonly #ctx: SessionContext;
  readonly #queue: () => SessionQueue;

  constructor(ctx: SessionContext, queue: () => SessionQueue) {
    this.#ctx = ctx;
    this.#deps = ctx.deps;
    this.#queue = queue;
  }

  async stop(reference: string): Promise<StopResult> {
    try {
      const result = await this.#stop(reference);
      if (!result.already)
        await this.#ctx.recorded({
          action: 'stop',
          session: result.session_id,
          user: result.ssh_user,
          result: 'ok',
          ...(result.gpu_freed ? {gpu_uuid: result.gpu_freed} : {}),
        });
      // A device given back may be what the head of the line waits for.
      if (result.gpu_freed)
        await this.#queue()
          .drain()
          .catch(() => undefined);
      return result;
    } catch (error) {
      await this.#ctx.recorded({
        action: 'stop',
        session: null,
        user: null,
        result: 'failed',
        reason: (error as Error).message,
      });
      throw error;
    }
  }

  /**
   * The reaper's side of a stop: a device held past gpuHoldAfterStop is given back, and what a
   * start killed half-way left (a second container, a committed image, a reserved device) goes.
   */
  async tidy(session: SessionRecord): Promise<string | undefined> {
    const {docker, clock, processes} = this.#deps;
    if (session.status !== 'stopped') return undefined;
    if (session.starter_pid && processes.alive(session.starter_pid)) return undefined;
    const now = clock.now().getTime();
    const done: string[] = [];
    if (session.starter_pid) {
      // A start that died: the containers it made and its image go; the session stays stopped.
      const containers = await docker.listContainers({[LABELS.session]: session.id});
      for (const container of containers)
        if (container.id !== session.container_id) {
          await docker.removeContainer(container.id);
          done.push(`removed ${container.name}`);
        }
      if (session.start_image) {
        await docker.removeImage(session.start_image);
        done.push(`removed image ${session.start_image}`);
      }
    }
    const holdOver = !session.gpu_hold_until || Date.parse(session.gpu_hold_until) <= now;
    const freed = session.gpu_uuid && holdOver ? allocationOf(session) : undefined;
    if (freed) {
      await this.#deps.gpus.release(freed);
      done.push(`freed ${freed.gpu_uuid}`);
    }
    if (done.length === 0 && !session.starter_pid) return undefined;
    await this.#deps.store.update((state) => {
      const record = state.sessions.find((candidate) => candidate.id === session.id);
      if (!record || record.status !== 'stopped') return;
      if (freed && record.gpu_uuid === freed.gpu_uuid) {
        Object.assign(record, NO_GPU, {gpu_hold_until: null});
        countGpuFreed(state);
      }
      Object.assign(record, {starter_pid: null, start_image: null});
    });
    if (freed)
      await this.#queue()
        .drain()
        .catch(() => undefined);
    return done.join(', ') || 'an interrupted start cleared';
  }

  async #stop(reference: string): Promise<StopResult> {
    const {docker, clock, config} = this.#deps;
    const session = resolveSession((await this.#deps.store.read()).sessions, reference);
    if (session.status === 'stopped') {
      // Stopping it again takes its queued start (`session start --queue`) out of the line.
      const cancelled = await this.#queue().cancel(session.id);
      return {
        ...toSessionView(session),
        already: true,
        gpu_freed: null,
        ...(cancelled ? {note: 'its queued start left the line'} : {}),
      };
    }
    if (session.status !== 'running')
      throw conflict(`session ${session.id} is ${session.status}; only a running session can be stopped`);
    await docker.stopContainer(session.container_id ?? session.container_name);
    const now = clock.now();
    const held = session.gpu_uuid ? allocationOf(session) : undefined;
    // The device goes back before the record lets go of it, so no create is given a device that
    // is being destroyed (dynamic mode), as a removal does it.
    const freeNow = held && config.gpuHoldAfterStop === 0;
    if (freeNow) await this.#deps.gpus.release(held);
    const record = await this.#deps.store.update((state) => {
      const current = state.sessions.find((candidate) => candidate.id === session.id);
      if (!current) throw new SandmanError('FAILURE', `session ${session.id} was removed meanwhile`);
      if (current.status === 'stopped') return {...current};
      const stoppedGpu: StoppedGpu | null = current.gpu_uuid
        ? {gpu_uuid: current.gpu_uuid, gpu_index: current.gpu_index, mig_profile: current.mig_profile}
        : null;
      Object.assign(current, {
        status: 'stopped',
        stopped_at: isoSeconds(now),
        remaining_ms: Math.max(0, Date.parse(current.expires_at) - now.getTime()),
        stopped_gpu: stoppedGpu,
        gpu_hold_until:
          held && !freeNow ? isoSeconds(new Date(now.getTime() + config.gpuHoldAfterStop)) : null,
        warned_at: null,
        // Its in-session credential dies with the run, and a keep ends (docs/admin/sessions.md "The in-session command").
        self_token_hash: null,
        keep_until: null,
      } satisfies Partial<SessionRecord>);
      if (freeNow) {
        Object.assign(current, NO_GPU);
        countGpuFreed(state);
      }
      return {...current};
    });
    return {
      ...toSessionView(record),
      already: false,
      gpu_freed: freeNow ? held.gpu_uuid : null,
      ...(this.#deps.runtime.stopNote ? {note: this.#deps.runtime.stopNote} : {}),
    };
  }
}

/** The metrics' count of devices given back by stops (docs/admin/sessions.md "Stop and start"). */
function countGpuFreed(state: StateData): void {
  const counters = countersOf(state);
  counters.gpus_freed_by_stop_total = (counters.gpus_freed_by_stop_total ?? 0) + 1;
}
