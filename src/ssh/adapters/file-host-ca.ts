import {readFile} from 'node:fs/promises';
import path from 'node:path';

import type {Clock} from '../../core/clock.js';
import {errnoCode, SandmanError} from '../../core/errors.js';
import type {HostCredentials, HostIdentity} from '../host-identity.js';
import {signHostCertificate} from '../ssh-certificates.js';
import {generateKeyPair, type KeyPair} from '../ssh-keys.js';
import {readOrMakeKey} from '../../core/adapters/key-file-once.js';

/** Certificates are valid from a little before now, so a container clock slightly behind accepts them. */
const CLOCK_SKEW_MS = 5 * 60_000;

/**
 * The host CA as files: `<stateDir>/ca/ssh_host_ca` (0600) and `.pub` (0644, in a 0711 directory),
 * made once, never replaced.
 */
export class FileHostCa implements HostIdentity {
  readonly keyFile: string;

  constructor(
    readonly dir: string,
    private readonly clock: Clock,
  ) {
    this.keyFile = path.join(dir, 'ssh_host_ca');
  }

  /** The public half alone, so any account may print the known_hosts line (`sandman known-hosts`). */
  async caPublicKey(): Promise<string> {
    const publicFile = `${this.keyFile}.pub`;
    let text: string;
    try {
      text = await readFile(publicFile, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return (await this.#ca()).publicKey;
      // A CA directory an earlier sandman made 0700: the next use as root opens it (0711).
      const hint = errnoCode(error) === 'EACCES' ? '; run this once as root to publish it' : '';
      throw new SandmanError(
        'FAILURE',
        `cannot read the SSH host CA's public key: ${(error as Error).message}${hint}`,
      );
    }
    return text.trim();
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

  async #ca(): Promise<KeyPair> {
    try {
      return await readOrMakeKey(this.keyFile, 'sandman-host-ca', 0o711);
    } catch (error) {
      throw this.#failure(error);
    }
  }

  #failure(error: unknown): SandmanError {
    return new SandmanError(
      'FAILURE',
      `cannot use the SSH host CA ${this.keyFile}: ${(error as Error).message}`,
    );
  }
}
