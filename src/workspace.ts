import {chown, lstat, mkdir} from 'node:fs/promises';
import path from 'node:path';

import {errnoCode, SandmanError} from './errors.js';

/** Session users get uids from here up, clear of the 1000-range accounts a host usually has. */
export const FIRST_SESSION_UID = 20000;

export function workspacePath(root: string, user: string): string {
  return path.join(root, user);
}

/**
 * Picks the uid for a user who has none yet. If a workspace survives from an earlier state file,
 * its owner is reused so the files stay the user's; otherwise the next uid after those in use.
 */
export function chooseUid(taken: Iterable<number>, existingOwner: number | undefined): number {
  const used = new Set(taken);
  if (existingOwner !== undefined && existingOwner >= FIRST_SESSION_UID && !used.has(existingOwner)) {
    return existingOwner;
  }
  let uid = FIRST_SESSION_UID;
  for (const value of used) if (value >= uid) uid = value + 1;
  return uid;
}

/** The owner of an existing workspace directory, or undefined when there is none. */
export async function workspaceOwner(dir: string): Promise<number | undefined> {
  try {
    const stats = await lstat(dir);
    return stats.isDirectory() ? stats.uid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates `<root>/<user>` owned by the user's uid, mode 0700, on first use; an existing workspace is
 * used as it is (sandman never deletes or rewrites user data).
 */
export async function ensureWorkspace(dir: string, uid: number): Promise<void> {
  await mkdir(path.dirname(dir), {recursive: true, mode: 0o755}).catch((error: unknown) => {
    throw new SandmanError(
      'FAILURE',
      `cannot create workspace root ${path.dirname(dir)}: ${(error as Error).message}`,
    );
  });
  try {
    await mkdir(dir, {mode: 0o700});
    await chown(dir, uid, uid);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') {
      throw new SandmanError('FAILURE', `cannot create workspace ${dir}: ${(error as Error).message}`);
    }
    const stats = await lstat(dir);
    if (!stats.isDirectory() || stats.isSymbolicLink()) {
      throw new SandmanError(
        'FAILURE',
        `workspace ${dir} exists but is not a directory; refusing to mount it`,
      );
    }
  }
}
