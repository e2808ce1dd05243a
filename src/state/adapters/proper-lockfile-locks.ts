import {mkdir} from 'node:fs/promises';

import type {LockName, Locks} from '../locks.js';
import type {StateDir} from '../state-dir.js';
import {acquireFileLock, withFileLock} from './file-lock.js';

/** Lock files beside the state file (`<stateDir>/<name>.lock`), through proper-lockfile. */
export class ProperLockfileLocks implements Locks {
  constructor(private readonly stateDir: StateDir) {}

  async withLock<T>(
    name: LockName,
    waitMs: number,
    onTimeout: () => Error,
    work: () => Promise<T>,
  ): Promise<T> {
    return withFileLock(await this.#path(name), waitMs, onTimeout, work);
  }

  async tryLock(name: LockName): Promise<(() => Promise<void>) | undefined> {
    return acquireFileLock(await this.#path(name), {waitMs: 0});
  }

  /**
   * The lock's path, its directory made first (as the state store makes it): on a fresh host the
   * timer's first `reap` comes before anything wrote the state, and proper-lockfile's mkdir of
   * `reap.lock` then failed with ENOENT.
   */
  async #path(name: LockName): Promise<string> {
    await mkdir(this.stateDir.dir, {recursive: true, mode: 0o755});
    return this.stateDir.lock(name);
  }
}
