import {mkdir, readFile} from 'node:fs/promises';
import path from 'node:path';

import {errnoCode, stateUnavailable} from '../../core/errors.js';
import type {Locks} from '../../state/locks.js';
import {emptyWebAccess, type WebAccessData, type WebAccessStore} from '../web-access.js';
import {replaceFile} from '../../core/adapters/replace-file.js';

/**
 * The web console's logins and links as one JSON file beside the state file (0600), changed under
 * the `web` lock and replaced atomically (a temporary file renamed over it).
 */
export class FileWebAccessStore implements WebAccessStore {
  constructor(
    private readonly file: string,
    private readonly locks: Locks,
    private readonly lockTimeout: number,
  ) {}

  async read(): Promise<WebAccessData> {
    try {
      const data = JSON.parse(await readFile(this.file, 'utf8')) as Partial<WebAccessData>;
      return {logins: data.logins ?? {}, links: data.links ?? {}, sign_ins: data.sign_ins ?? {}};
    } catch (error) {
      // Not there yet (no login so far), or torn by hand: nobody is logged in.
      if (errnoCode(error) === 'ENOENT' || error instanceof SyntaxError) return emptyWebAccess();
      throw error;
    }
  }

  async update<T>(change: (data: WebAccessData) => T): Promise<T> {
    // The first login may come before anything else made the state directory (the lock lives there).
    await mkdir(path.dirname(this.file), {recursive: true});
    return this.locks.withLock(
      'web',
      this.lockTimeout,
      () => stateUnavailable(`the web console's lock on ${this.file} was held too long`),
      async () => {
        const data = await this.read();
        const result = change(data);
        await replaceFile(this.file, JSON.stringify(data, null, 1) + '\n', 0o600);
        return result;
      },
    );
  }
}
