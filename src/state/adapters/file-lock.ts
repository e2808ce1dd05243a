import {setTimeout as sleep} from 'node:timers/promises';

import lockfile from 'proper-lockfile';

import {errnoCode} from '../../core/errors.js';

/** A lock whose holder stopped refreshing it for this long is taken over (its process died). */
export const STALE_LOCK_MS = 15_000;

/**
 * Takes the cross-process lock `<file>.lock` (a directory, via proper-lockfile), waiting up to
 * `waitMs`; resolves to the release function, or undefined when it stayed held that long.
 * proper-lockfile's own retry schedule is not used, so the wait is exactly `waitMs`.
 */
export async function acquireFileLock(
  file: string,
  options: {waitMs: number; onCompromised?: (error: Error) => void},
): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + options.waitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await lockfile.lock(file, {
        realpath: false,
        lockfilePath: `${file}.lock`,
        stale: STALE_LOCK_MS,
        update: STALE_LOCK_MS / 2,
        onCompromised: options.onCompromised ?? (() => undefined),
      });
    } catch (error) {
      if (errnoCode(error) !== 'ELOCKED') throw error;
      if (Date.now() >= deadline) return undefined;
      await sleep(Math.min(25 + attempt * 5, 100) + Math.random() * 25);
    }
  }
}

/** Runs `work` holding the lock; fails with `onTimeout()` when it cannot be had within `waitMs`. */
export async function withFileLock<T>(
  file: string,
  waitMs: number,
  onTimeout: () => Error,
  work: () => Promise<T>,
): Promise<T> {
  const release = await acquireFileLock(file, {waitMs});
  if (!release) throw onTimeout();
  try {
    return await work();
  } finally {
    await release().catch(() => undefined);
  }
}
