import {closeSync, constants, fchownSync, mkdirSync, openSync, readFileSync, writeSync} from 'node:fs';
import path from 'node:path';

import {errnoCode, SandmanError} from '../../core/errors.js';
import {jobLogPath, type JobLogStore} from '../job-log-store.js';

/**
 * Job logs in the user's home, written and read with her uid as the effective one (root's
 * sandman switches for the few synchronous calls, then back): the home is hers, so a link she
 * planted at ~/.sandman/jobs cannot make root write or read a file she could not. A sandman that
 * is not root can only write homes of its own uid.
 */
export const fsJobLogStore: JobLogStore = {
  async keep(home, jobId, output) {
    asOwner(home.uid, () => {
      const file = path.join(home.workspace, jobLogPath(jobId));
      for (const dir of [path.join(home.workspace, '.sandman'), path.dirname(file)]) {
        try {
          mkdirSync(dir, {mode: 0o700});
        } catch (error) {
          if (errnoCode(error) !== 'EEXIST') throw error;
        }
      }
      const fd = openSync(
        file,
        constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        let offset = 0;
        while (offset < output.length) offset += writeSync(fd, output, offset);
        fchownSync(fd, home.uid, home.uid);
      } finally {
        closeSync(fd);
      }
    }).catch((error: unknown) => {
      throw new SandmanError(
        'FAILURE',
        `cannot keep the log of job ${jobId} in ${home.workspace}: ${(error as Error).message}`,
      );
    });
  },

  async read(home, jobId) {
    try {
      return await asOwner(home.uid, () => {
        const fd = openSync(
          path.join(home.workspace, jobLogPath(jobId)),
          constants.O_RDONLY | constants.O_NOFOLLOW,
        );
        try {
          return readFileSync(fd);
        } finally {
          closeSync(fd);
        }
      });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw new SandmanError('FAILURE', `cannot read the log of job ${jobId}: ${(error as Error).message}`);
    }
  },
};

/** Runs `work` (synchronous file calls only) with `uid` as the effective uid and gid. */
async function asOwner<T>(uid: number, work: () => T): Promise<T> {
  if (process.geteuid?.() !== 0 || !process.seteuid || !process.setegid) return work();
  const [euid, egid] = [process.geteuid(), process.getegid!()];
  process.setegid(uid);
  process.seteuid(uid);
  try {
    return work();
  } finally {
    process.seteuid(euid);
    process.setegid(egid);
  }
}
