import {chmod, mkdir, readFile, rm, rmdir, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {SandmanError} from '../../core/errors.js';
import type {SetupHost} from '../setup-host.js';

/** The host's file system, and systemctl when systemd runs the host. */
export const fsSetupHost: SetupHost = {
  async directoryMode(dir) {
    const stats = await stat(dir).catch(() => undefined);
    return stats?.isDirectory() ? stats.mode & 0o777 : undefined;
  },
  async fileMode(file) {
    const stats = await stat(file).catch(() => undefined);
    return stats?.isFile() ? stats.mode & 0o777 : undefined;
  },
  async makeDirectory(dir, mode) {
    await mkdir(dir, {recursive: true, mode});
    // mkdir's mode is filtered by the umask and ignored for an existing directory.
    await chmod(dir, mode);
  },
  read: (file) => readFile(file, 'utf8').catch(() => undefined),
  async write(file, text, mode) {
    await mkdir(path.dirname(file), {recursive: true});
    await writeFile(file, text, {mode});
    await chmod(file, mode);
  },
  async remove(file) {
    const existed = (await stat(file).catch(() => undefined)) !== undefined;
    await rm(file, {force: true});
    return existed;
  },
  async removeTree(dir) {
    const existed = (await stat(dir).catch(() => undefined)) !== undefined;
    await rm(dir, {recursive: true, force: true});
    return existed;
  },
  async removeEmptyDirectory(dir) {
    await rmdir(dir).catch(() => undefined);
  },
  async systemd() {
    return (await readFile('/proc/1/comm', 'utf8').catch(() => '')).trim() === 'systemd';
  },
  async systemctl(args) {
    const {execa} = await import('execa');
    const result = await execa('systemctl', args, {reject: false});
    if (result.exitCode !== 0)
      throw new SandmanError(
        'FAILURE',
        `systemctl ${args.join(' ')} failed: ${String(result.stderr).trim()}`,
      );
  },
};
