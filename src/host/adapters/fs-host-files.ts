import {access, readFile, stat} from 'node:fs/promises';

import type {HostFiles} from '../host-files.js';

export const fsHostFiles: HostFiles = {
  exists: (file) =>
    access(file).then(
      () => true,
      () => false,
    ),
  read: (file) => readFile(file, 'utf8').catch(() => undefined),
  mode: async (file) => {
    const stats = await stat(file).catch(() => undefined);
    return stats && stats.mode & 0o777;
  },
  async unitState(unit) {
    const {execa} = await import('execa');
    // Both answer on stdout and exit non-zero for "disabled" or "inactive": that is an answer too.
    const ask = async (verb: string) =>
      String((await execa('systemctl', [verb, unit], {reject: false})).stdout).trim() || 'unknown';
    return {enabled: await ask('is-enabled'), active: await ask('is-active')};
  },
};
