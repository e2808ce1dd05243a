import {chmod, link, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';

import type {Clock} from '../clock.js';
import {errnoCode, SandmanError} from '../errors.js';
import type {HostCredentials, HostIdentity} from '../host-identity.js';
import {signHostCertificate} from '../ssh-certificates.js';
import {generateKeyPair} from '../ssh-keys.js';

/** Certificates are valid from a little before now, so a container clock slightly behind accepts them. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** The host CA as files: `<stateDir>/ca/ssh_host_ca` (0600) and `.pub`, made once, never replaced. */
export class FileHostCa implements HostIdentity {
  readonly keyFile: string;

  constructor(
    readonly dir: string,
    private readonly clock: Clock,
  ) {
    this.keyFile = path.join(dir, 'ssh_host_ca');
  }

  async caPublicKey(): Promise<string> {
    return (await this.#ca()).publicKey;
  }

  async issue(request: {
    sessionId: string;
    principals: string[];
    validBefore: Date;
  }): Promise<HostCredentials> {
    const host = generateKeyPair(`sandman-host-${request.sessionId}`);
    const certificate = await this.renew({
      hostPublicKey: host.publicKey,
      principals: request.principals,
      validBefore: request.validBefore,
    });
    return {...host, certificate};
  }

  async renew(request: {hostPublicKey: string; principals: string[]; validBefore: Date}): Promise<string> {
    const ca = await this.#ca();
    return signHostCertificate({
      caPrivateKey: ca.privateKey,
      hostPublicKey: request.hostPublicKey,
      principals: request.principals,
      validAfter: new Date(this.clock.now().getTime() - CLOCK_SKEW_MS),
      validBefore: request.validBefore,
    });
  }

  /** Reads the CA, making it on first use. Concurrent first uses agree: link() lets one file win. */
  async #ca(): Promise<{privateKey: string; publicKey: string}> {
    try {
      return await this.#read();
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw this.#failure(error);
    }
    try {
      await mkdir(this.dir, {recursive: true, mode: 0o700});
      await chmod(this.dir, 0o700);
      const temp = `${this.keyFile}.${process.pid}.tmp`;
      await writeFile(temp, generateKeyPair('sandman-host-ca').privateKey, {mode: 0o600});
      await link(temp, this.keyFile).catch((error: unknown) => {
        if (errnoCode(error) !== 'EEXIST') throw error;
      });
      await rm(temp, {force: true});
      const ca = await this.#read();
      // For people: the same line `sandman known-hosts` prints the CA with.
      await writeFile(`${this.keyFile}.pub`, ca.publicKey + '\n', {mode: 0o644});
      return ca;
    } catch (error) {
      throw this.#failure(error);
    }
  }

  async #read(): Promise<{privateKey: string; publicKey: string}> {
    const privateKey = await readFile(this.keyFile, 'utf8');
    const {default: sshpk} = await import('sshpk');
    const publicKey = sshpk.parsePrivateKey(privateKey, 'openssh').toPublic().toString('ssh');
    return {privateKey, publicKey};
  }

  #failure(error: unknown): SandmanError {
    return new SandmanError(
      'FAILURE',
      `cannot use the SSH host CA ${this.keyFile}: ${(error as Error).message}`,
    );
  }
}
