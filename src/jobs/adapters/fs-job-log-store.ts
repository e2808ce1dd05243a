import {
  closeSync,
  constants,
  fchownSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';

import {errnoCode, SandmanError} from '../../core/errors.js';
import {jobLogPath, type JobLogStore} from '../job-log-store.js';

/**
 * Job logs in the user's home (`~/.sandman/jobs/ID.log`, hers, mode 0600). The home is hers to
 * change while root's sandman writes there, so no name in it is trusted: directories are made
 * without following links and checked, the file is created new (O_EXCL, O_NOFOLLOW), and what
 * was opened is checked to be that file in that home (its /proc/self/fd link) before a byte is
 * written or read; anything else is refused and what was made is taken back.
 */
export const fsJobLogStore: JobLogStore = {
  async keep(home, jobId, output) {
    try {
      const file = path.join(realHome(home.workspace), jobLogPath(jobId));
      for (const dir of [path.dirname(path.dirname(file)), path.dirname(file)]) ownDirectory(dir, home.uid);
      let fd: number;
      try {
        fd = openSync(
          file,
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          0o600,
        );
      } catch (error) {
        // Kept already (two processes collected the same end): the first one's stays.
        if (errnoCode(error) === 'EEXIST') return;
        throw error;
      }
      try {
        const opened = readlinkSync(`/proc/self/fd/${fd}`);
        if (opened !== file) {
          unlinkSync(opened);
          throw new Error(`${file} led elsewhere (${opened}); nothing was kept`);
        }
        fchownSync(fd, home.uid, home.uid);
        let offset = 0;
        while (offset < output.length) offset += writeSync(fd, output, offset);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      throw new SandmanError(
        'FAILURE',
        `cannot keep the log of job ${jobId} in ${home.workspace}: ${(error as Error).message}`,
      );
    }
  },

  async read(home, jobId) {
    try {
      const file = path.join(realHome(home.workspace), jobLogPath(jobId));
      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`) !== file || !fstatSync(fd).isFile())
          throw new Error(`${file} is not the job's log file`);
        return readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw new SandmanError('FAILURE', `cannot read the log of job ${jobId}: ${(error as Error).message}`);
    }
  },
};

/** The home's real path (sandman made it; a link in its place is refused). */
function realHome(workspace: string): string {
  if (!lstatSync(workspace).isDirectory()) throw new Error(`${workspace} is not a directory`);
  return realpathSync(workspace);
}

/** A directory of hers at `dir`: made (not following a link) when absent, else it must be one. */
function ownDirectory(dir: string, uid: number): void {
  try {
    mkdirSync(dir, {mode: 0o700});
    const made = lstatSync(dir);
    if (made.isDirectory() && !made.isSymbolicLink() && made.uid !== uid) {
      const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        fchownSync(fd, uid, uid);
      } finally {
        closeSync(fd);
      }
    }
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  }
  const found = lstatSync(dir);
  if (!found.isDirectory() || found.isSymbolicLink()) throw new Error(`${dir} is not a directory`);
}
