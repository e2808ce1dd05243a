import {chmod, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {SandmanError} from '../errors.js';
import type {KeyStore} from '../key-store.js';

/** Key files in one directory (0700), each 0600, never overwritten. */
export class FsKeyStore implements KeyStore {
  constructor(readonly dir: string) {}

  pathFor(sessionId: string): string {
    return path.join(this.dir, sessionId);
  }

  async write(sessionId: string, privateKey: string): Promise<string> {
    const file = this.pathFor(sessionId);
    try {
      await mkdir(this.dir, {recursive: true, mode: 0o700});
      // mkdir's mode is filtered by the umask and ignored for an existing directory: set it outright.
      await chmod(this.dir, 0o700);
      await writeFile(file, privateKey, {mode: 0o600, flag: 'wx'});
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write private key ${file}: ${(error as Error).message}`);
    }
    return file;
  }

  async read(sessionId: string): Promise<string | null> {
    return readFile(this.pathFor(sessionId), 'utf8').catch(() => null);
  }

  async remove(sessionId: string): Promise<void> {
    await rm(this.pathFor(sessionId), {force: true});
  }
}
