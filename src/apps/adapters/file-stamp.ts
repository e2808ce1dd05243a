import {stat} from 'node:fs/promises';

import {errnoCode} from '../../core/errors.js';

/**
 * A file's identity on disk (device, inode, modification and change times in nanoseconds, size):
 * the state is rewritten as a new file renamed over the old one, so each write changes it. 'absent'
 * when there is no file; undefined when it cannot be told (the caller then reads the file).
 */
export async function fileStamp(file: string): Promise<string | undefined> {
  try {
    const found = await stat(file, {bigint: true});
    return `${found.dev}:${found.ino}:${found.mtimeNs}:${found.ctimeNs}:${found.size}`;
  } catch (error) {
    return errnoCode(error) === 'ENOENT' ? 'absent' : undefined;
  }
}
