import {chown, lstat, mkdir} from 'node:fs/promises';
import path from 'node:path';

import {errnoCode, SandmanError} from '../../core/errors.js';
import type {Workspaces} from '../workspace.js';

/** Workspaces as directories on the host's file system. */
export const fsWorkspaces: Workspaces = {
  async owner(dir) {
    try {
      const stats = await lstat(dir);
      return stats.isDirectory() ? stats.uid : undefined;
    } catch {
      return undefined;
    }
  },

  async ensure(dir, uid) {
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
  },
};
