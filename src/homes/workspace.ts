import path from 'node:path';

export function workspacePath(root: string, user: string): string {
  return path.join(root, user);
}

/** Users' home directories on the host. sandman never deletes or rewrites user data. */
export interface Workspaces {
  /** The owner of an existing workspace directory, or undefined when there is none. */
  owner(dir: string): Promise<number | undefined>;
  /** Creates the directory owned by `uid`, mode 0700, on first use; an existing one is used as it is. */
  ensure(dir: string, uid: number): Promise<void>;
}
