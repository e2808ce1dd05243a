import type {LockName, Locks} from '../locks.js';
import type {StateDir} from '../state-dir.js';
import {acquireFileLock, withFileLock} from './file-lock.js';

/** Lock files beside the state file (`<stateDir>/<name>.lock`), through proper-lockfile. */
export class ProperLockfileLocks implements Locks {
  constructor(private readonly stateDir: StateDir) {}

  withLock<T>(name: LockName, waitMs: number, onTimeout: () => Error, work: () => Promise<T>): Promise<T> {
    return withFileLock(this.stateDir.lock(name), waitMs, onTimeout, work);
  }

  tryLock(name: LockName): Promise<(() => Promise<void>) | undefined> {
    return acquireFileLock(this.stateDir.lock(name), {waitMs: 0});
  }
}
