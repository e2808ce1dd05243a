import {emptyState, type StateData} from '../../src/state/state-data.js';
import type {StateStore} from '../../src/state/state-store.js';

/** The state file in memory: updates are serialised (as under the real lock) and work on copies. */
export class InMemoryStateStore implements StateStore {
  readonly file = '/fake/state.json';
  #data: StateData = emptyState();
  #queue: Promise<unknown> = Promise.resolve();
  /** Runs inside the next update, before its mutation: lets a test interleave another process. */
  beforeNextUpdate?: () => Promise<void>;

  async read(): Promise<StateData> {
    return structuredClone(this.#data);
  }

  async update<T>(mutate: (state: StateData) => T | Promise<T>): Promise<T> {
    const hook = this.beforeNextUpdate;
    this.beforeNextUpdate = undefined;
    if (hook) await hook();
    const run = async () => {
      const copy = structuredClone(this.#data);
      const result = await mutate(copy);
      this.#data = copy;
      return result;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** What a concurrent process would see right now. */
  get snapshot(): StateData {
    return structuredClone(this.#data);
  }
}
