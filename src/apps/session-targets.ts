/**
 * What the app proxy looks up for each request, kept in the API process between requests: the
 * state's sessions and each session's running container (its ID, address and labels). Both are
 * valid while the state file is unchanged on disk (its stamp, a `stat`): a session removed, stopped
 * or started again changes the state, and everything kept is dropped. The engine is asked again
 * when nothing is kept for a session or a request to its container failed (`drop`). Reading and
 * parsing a state of 1,000 sessions took 4 ms and the engine's list 0.75 ms per request
 * (docs/development/BENCHMARKS.md, "Sixth round, this round's new paths").
 */
import {LABELS} from '../core/labels.js';
import type {ContainerClient, ContainerSummary} from '../runtime/docker/container-client.js';
import type {SessionRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';

export interface SessionTargetsDeps {
  store: Pick<StateStore, 'read'>;
  /** The state file's identity on disk: the same stamp, the same state; undefined: unknown (read it). */
  stateStamp: () => Promise<string | undefined>;
  containers: Pick<ContainerClient, 'listContainers'>;
  /** This setup's instance ID: only its own containers are looked at. */
  instance: string;
}

export class SessionTargets {
  #stamp: string | undefined;
  #sessions: Promise<Map<string, SessionRecord>> | undefined;
  readonly #running = new Map<string, Promise<ContainerSummary | undefined>>();

  constructor(private readonly deps: SessionTargetsDeps) {}

  /** The session's record as the state has it now (not to be changed: it is shared). */
  async session(id: string): Promise<SessionRecord | undefined> {
    // The stamp before the read: a write in between leaves the old stamp, so the next request reads again.
    const stamp = await this.deps.stateStamp();
    if (stamp === undefined || stamp !== this.#stamp || !this.#sessions) {
      this.#running.clear();
      const sessions = this.deps.store
        .read()
        .then((state) => new Map(state.sessions.map((session) => [session.id, session])));
      this.#stamp = stamp;
      this.#sessions = sessions;
      sessions.catch(() => {
        if (this.#sessions === sessions) [this.#stamp, this.#sessions] = [undefined, undefined];
      });
    }
    return (await this.#sessions).get(id);
  }

  /** The session's running container; none found is not kept (the next request asks again). */
  running(sessionId: string): Promise<ContainerSummary | undefined> {
    let found = this.#running.get(sessionId);
    if (!found) {
      const asked = this.deps.containers
        .listContainers({[LABELS.session]: sessionId, [LABELS.instance]: this.deps.instance})
        .then((containers) => containers.find((one) => one.state === 'running'));
      this.#running.set(sessionId, asked);
      const forget = () => {
        if (this.#running.get(sessionId) === asked) this.#running.delete(sessionId);
      };
      asked.then((container) => container ?? forget(), forget);
      found = asked;
    }
    return found;
  }

  /** A request to the session's container failed: the next one asks the engine again. */
  drop(sessionId: string): void {
    this.#running.delete(sessionId);
  }
}
