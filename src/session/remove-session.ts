import {isSandmanError, SandmanError} from '../core/errors.js';
import {type SessionRecord} from '../state/state-data.js';
import {resolveSession} from './resolve.js';
import {toSessionView, type SessionView} from './session-view.js';
import {findQueued, SessionQueue} from './session-queue.js';
import {
  SessionContext,
  type SessionServiceDeps,
  type RemoveError,
  type RemoveResult,
} from './session-context.js';
import {allocationOf} from './session-records.js';

/** How many sessions `rm` tears down at once. */
const PARALLEL_REMOVALS = 8;

/**
 * `session rm` (docs/reference/commands.md): each session torn down (container, GPU slice, port, key,
 * record; the workspace kept), queued requests cancelled, and the line started on what was freed.
 */
export class RemoveWorkflow {
  readonly #deps: SessionServiceDeps;
  readonly #ctx: SessionContext;
  readonly #queue: () => SessionQueue;

  constructor(ctx: SessionContext, queue: () => SessionQueue) {
    this.#ctx = ctx;
    this.#deps = ctx.deps;
    this.#queue = queue;
  }

  /** Removes sessions: container gone, GPU slice released, key deleted, record removed; workspace kept. */
  async remove(references: string[]): Promise<RemoveResult> {
    const result = await this.#remove(references);
    // What was freed may be what a queued request waits for.
    if (result.removed.length > 0)
      await this.#queue()
        .drain()
        .catch((error: unknown) => {
          this.#deps.warn(`could not start a queued request: ${(error as Error).message}`);
        });
    return result;
  }

  async #remove(references: string[]): Promise<RemoveResult> {
    const state = await this.#deps.store.read();
    const targets: SessionRecord[] = [];
    const errors: RemoveError[] = [];
    const cancelled: string[] = [];
    for (const reference of references) {
      // A queued request (by its ID or user) leaves the line.
      const queued = findQueued(state, reference);
      if (
        queued &&
        !state.sessions.some((session) => session.id === reference || session.user === reference)
      ) {
        if (await this.#queue().cancel(queued.id)) {
          cancelled.push(queued.id);
          continue;
        }
      }
      try {
        const session = resolveSession(state.sessions, reference);
        if (!targets.some((target) => target.id === session.id)) targets.push(session);
      } catch (error) {
        if (!isSandmanError(error)) throw error;
        errors.push({reference, error});
      }
    }
    if (targets.length > 0) await this.#deps.docker.ping();
    // Containers are removed a few at a time: Docker handles that well, and `rm --all` stays quick.
    const outcomes: Array<SessionView | RemoveError> = [];
    for (let index = 0; index < targets.length; index += PARALLEL_REMOVALS) {
      const batch = targets.slice(index, index + PARALLEL_REMOVALS);
      outcomes.push(...(await Promise.all(batch.map((session) => this.#removeOne(session)))));
    }
    const removed = outcomes.filter((outcome): outcome is SessionView => !('error' in outcome));
    errors.push(...outcomes.filter((outcome): outcome is RemoveError => 'error' in outcome));
    return {removed, errors, cancelled};
  }

  async #removeOne(session: SessionRecord): Promise<SessionView | RemoveError> {
    try {
      await this.teardown(session);
      await this.#ctx.recorded({action: 'rm', session: session.id, user: session.user, result: 'ok'});
      return toSessionView(session);
    } catch (error) {
      await this.#ctx.recorded({
        action: 'rm',
        session: session.id,
        user: session.user,
        result: 'failed',
        reason: (error as Error).message,
      });
      return {
        reference: session.id,
        error: isSandmanError(error) ? error : new SandmanError('FAILURE', (error as Error).message),
      };
    }
  }

  async removeAll(): Promise<RemoveResult> {
    const state = await this.#deps.store.read();
    return this.remove(
      [...state.sessions, ...(state.queue ?? []).filter((entry) => entry.kind !== 'job')].map(
        (entry) => entry.id,
      ),
    );
  }

  /**
   * Releases everything a session holds. Safe to run twice or concurrently (rm and reap racing):
   * each step treats "already gone" as done, and the record goes last so a failure can be retried.
   */
  async teardown(session: SessionRecord): Promise<void> {
    const {docker, keys, store} = this.#deps;
    // By name: it finds the container (Swarm: the service and its secrets) even once its ID is gone.
    await docker.removeContainer(session.container_name);
    // A session moved to another device by `session start` runs from an image of its own.
    for (const image of [session.committed_image, session.start_image])
      if (image) await docker.removeImage(image);
    await keys.remove(session.id);
    if (session.gpu_uuid) await this.#deps.gpus.release(allocationOf(session));
    await store.update((state) => {
      state.sessions = state.sessions.filter((record) => record.id !== session.id);
    });
  }
}
