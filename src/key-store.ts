import {chmod, mkdir, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {SandmanError} from './errors.js';

/** Private keys live in `<stateDir>/keys/<session-id>`: directory 0700, file 0600 (SPEC.md section 2). */
export class KeyStore {
  readonly dir: string;

  constructor(stateFile: string) {
    this.dir = path.join(path.dirname(path.resolve(stateFile)), 'keys');
  }

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

  async remove(sessionId: string): Promise<void> {
    await rm(this.pathFor(sessionId), {force: true});
  }
}
