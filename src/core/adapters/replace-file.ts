import {chmod, chown, rename, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a new file beside `file` and renames it over it, so a reader sees the old or the new one
 * whole; its mode (and group, `gid`) are set before it takes the name, never filtered by the umask.
 */
export async function replaceFile(file: string, content: string, mode: number, gid?: number): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await rm(temp, {force: true});
    await writeFile(temp, content, {mode: mode & 0o600, flag: 'wx'});
    if (gid !== undefined) await chown(temp, -1, gid);
    await chmod(temp, mode);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, {force: true});
    throw error;
  }
}
