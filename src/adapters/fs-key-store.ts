import {chmod, mkdir, readFile, rename, rm, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {SandmanError} from '../errors.js';
import {HOST_KEY_FILES, SESSION_FILES, type KeyStore, type SessionFiles} from '../key-store.js';

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
    const dir = this.#hostDir(sessionId);
    try {
      await this.#ensureDir(this.dir);
      await this.#ensureDir(dir);
      // sshd refuses a host key others can read; root in the container owns it.
      await this.#replace(path.join(dir, HOST_KEY_FILES.privateKey), host.privateKey, 0o600);
      await this.#replace(path.join(dir, HOST_KEY_FILES.certificate), host.certificate, 0o644);
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write host key in ${dir}: ${(error as Error).message}`);
    }
    return dir;
  }

  async hostKeyDir(sessionId: string): Promise<string | undefined> {
    return present(this.#hostDir(sessionId));
  }

  async renewHostCertificate(sessionId: string, certificate: string): Promise<void> {
    const file = path.join(this.#hostDir(sessionId), HOST_KEY_FILES.certificate);
    try {
      await this.#replace(file, certificate, 0o644);
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write host certificate ${file}: ${(error as Error).message}`);
    }
  }

  async writeSessionFiles(sessionId: string, files: SessionFiles): Promise<string> {
    const dir = this.#filesDir(sessionId);
    try {
      await this.#ensureDir(this.dir);
      // Read by the session's user in the container (sshd opens authorized_keys as them).
      await this.#ensureDir(dir, 0o755);
      await this.#replace(path.join(dir, SESSION_FILES.authorizedKeys), files.authorizedKeys, 0o644);
      await this.#replace(path.join(dir, SESSION_FILES.motd), files.motd, 0o644);
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot write session files in ${dir}: ${(error as Error).message}`);
    }
    return dir;
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
   * A new file beside the old, then renamed over it: the directory is mounted into a running
   * container, whose sshd never reads a half-written file.
   */
  async #replace(file: string, content: string, mode: number): Promise<void> {
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, content, {mode});
    await chmod(temp, mode);
    await rename(temp, file);
  }
}

/** The directory, when it is one. */
async function present(dir: string): Promise<string | undefined> {
  const found = await stat(dir).catch(() => undefined);
  return found?.isDirectory() ? dir : undefined;
}
