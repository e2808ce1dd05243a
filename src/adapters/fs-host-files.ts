import {access, readFile} from 'node:fs/promises';

import type {HostFiles} from '../host-files.js';

export const fsHostFiles: HostFiles = {
  exists: (file) =>
    access(file).then(
      () => true,
      () => false,
    ),
  read: (file) => readFile(file, 'utf8').catch(() => undefined),
};
