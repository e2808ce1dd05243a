import type {StateData} from './state-data.js';

/**
 * The state file. Reads are lock-free (writes are atomic renames, so a reader always sees a whole
 * file); every read-modify-write goes through `update`, which holds the cross-process lock.
 */
export interface StateStore {
  readonly file: string;
  read(): Promise<StateData>;
  /**
   * Runs `mutate` on a fresh copy of the state under the lock and writes it back if it changed.
   * Keep `mutate` short: slow Docker work belongs outside the lock.
   */
  update<T>(mutate: (state: StateData) => T | Promise<T>): Promise<T>;
  /** The version the file on disk has (an earlier one until the first write migrates it); undefined: no file. */
  diskVersion?(): Promise<number | undefined>;
}
