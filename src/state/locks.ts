import type {StateDir} from './state-dir.js';

export type LockName = Parameters<StateDir['lock']>[0];

/** Host-wide locks across sandman processes (implemented with proper-lockfile). */
export interface Locks {
  /** Runs `work` holding the lock; fails with `onTimeout()` when it cannot be had within `waitMs`. */
  withLock<T>(name: LockName, waitMs: number, onTimeout: () => Error, work: () => Promise<T>): Promise<T>;
  /** Takes the lock without waiting: the release function, or undefined when someone holds it. */
  tryLock(name: LockName): Promise<(() => Promise<void>) | undefined>;
}
