import path from 'node:path';

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

/** Users' home directories on the host. sandman never deletes or rewrites user data. */
export interface Workspaces {
  /** The owner of an existing workspace directory, or undefined when there is none. */
  owner(dir: string): Promise<number | undefined>;
  /** Creates the directory owned by `uid`, mode 0700, on first use; an existing one is used as it is. */
  ensure(dir: string, uid: number): Promise<void>;
}
