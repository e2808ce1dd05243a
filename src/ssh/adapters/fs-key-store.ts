import {chmod, chown, mkdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {SandmanError} from '../../core/errors.js';
import {replaceFile} from '../../core/adapters/replace-file.js';
import {HOST_KEY_FILES, SESSION_FILES, type KeyStore, type SessionFiles} from '../key-store.js';
import {SELF_FILES} from '../../self/self-credential.js';

/**
 * Key files in one directory (0700): private keys 0600, never overwritten; host key directories 0700;
 * session files directories 0755.
 */
export class FsKeyStore implements KeyStore {
  constructor(readonly dir: string) {}

  pathFor(sessionId: string): string {
    return path.join(this.dir, sessionId);
  }

  async write(sessionId: string, privateKey: string): Promise<string> {
    const file = this.pathFor(sessionId);
    try {
      await this.#ensureDir(this.dir);
      await writeFile(file, privateKey, {mode: 0o600, flag: 'wx'});
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write private key ${file}: ${(error as Error).message}`);
    }
    return file;
  }

  async read(sessionId: string): Promise<string | null> {
    return readFile(this.pathFor(sessionId), 'utf8').catch(() => null);
  }

  async writeHostKey(sessionId: string, host: {privateKey: string; certificate: string}): Promise<string> {
    // sshd refuses a host key others can read; root in the container owns it.
    return this.#writeDir(this.#hostDir(sessionId), 0o700, 'host key', [
      [HOST_KEY_FILES.privateKey, host.privateKey, 0o600],
      [HOST_KEY_FILES.certificate, host.certificate, 0o644],
    ]);
  }

  async hostKeyDir(sessionId: string): Promise<string | undefined> {
    return present(this.#hostDir(sessionId));
  }

  async renewHostCertificate(sessionId: string, certificate: string): Promise<void> {
    const file = path.join(this.#hostDir(sessionId), HOST_KEY_FILES.certificate);
    try {
      await replaceFile(file, certificate, 0o644);
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write host certificate ${file}: ${(error as Error).message}`);
    }
  }

  async writeSessionFiles(sessionId: string, files: SessionFiles): Promise<string> {
    // Read by the session's user in the container (sshd opens authorized_keys as them).
    return this.#writeDir(this.#filesDir(sessionId), 0o755, 'session files', [
      [SESSION_FILES.authorizedKeys, files.authorizedKeys, 0o644],
      [SESSION_FILES.motd, files.motd, 0o644],
    ]);
  }

  async writeSelfAccess(
    sessionId: string,
    access: {secret: string; url: string; uid: number},
  ): Promise<void> {
    const dir = this.#filesDir(sessionId);
    const token = path.join(dir, SELF_FILES.token);
    try {
      // Made unreadable first, then given to her: no moment where another uid could read it.
      const temporary = `${token}.${process.pid}.tmp`;
      await writeFile(temporary, access.secret + '\n', {mode: 0o400, flag: 'w'});
      await chmod(temporary, 0o400);
      await chown(temporary, access.uid, access.uid);
      await replaceFile(path.join(dir, SELF_FILES.url), access.url + '\n', 0o644);
      await rename(temporary, token);
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write ${token}: ${(error as Error).message}`);
    }
  }

  async sessionFilesDir(sessionId: string): Promise<string | undefined> {
    return present(this.#filesDir(sessionId));
  }

  async removeSessionFiles(sessionId: string): Promise<void> {
    await rm(this.#filesDir(sessionId), {recursive: true, force: true});
  }

  async remove(sessionId: string): Promise<void> {
    await rm(this.pathFor(sessionId), {force: true});
    await rm(this.#hostDir(sessionId), {recursive: true, force: true});
    await this.removeSessionFiles(sessionId);
  }

  #hostDir(sessionId: string): string {
    return `${this.pathFor(sessionId)}.host`;
  }

  #filesDir(sessionId: string): string {
    return `${this.pathFor(sessionId)}.session`;
  }

  async #ensureDir(dir: string, mode = 0o700): Promise<void> {
    await mkdir(dir, {recursive: true, mode});
    // mkdir's mode is filtered by the umask and ignored for an existing directory: set it outright.
    await chmod(dir, mode);
  }

  /**
   * A session's directory with its files (name, content, mode), each replaced whole (renamed over
   * the old: the directory is mounted into a running container, whose sshd never reads a
   * half-written file); returns it.
   */
  async #writeDir(dir: string, mode: number, what: string, files: Array<[string, string, number]>) {
    try {
      await this.#ensureDir(this.dir);
      await this.#ensureDir(dir, mode);
      for (const [name, content, fileMode] of files)
        await replaceFile(path.join(dir, name), content, fileMode);
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write ${what} in ${dir}: ${(error as Error).message}`);
    }
    return dir;
  }
}

/** The directory, when it is one. */
async function present(dir: string): Promise<string | undefined> {
  const found = await stat(dir).catch(() => undefined);
  return found?.isDirectory() ? dir : undefined;
}
