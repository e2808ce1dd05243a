import path from 'node:path';

import {SandmanError} from '../../core/errors.js';
import type {GatewayKeys} from '../gateway-keys.js';
import type {KeyPair} from '../../ssh/ssh-keys.js';
import {readOrMakeKey} from '../../core/adapters/key-file-once.js';

const RELAY_KEY = 'relay_ed25519';

/** The gateway's keys as files in `<stateDir>/gateway/` (0700; keys 0600), made once. */
export class FileGatewayKeys implements GatewayKeys {
  constructor(readonly dir: string) {}

  hostKey(): Promise<KeyPair> {
    return this.#key('ssh_host_ed25519_key', 'sandman-gateway-host');
  }

  relayKey(): Promise<KeyPair> {
    return this.#key(RELAY_KEY, 'sandman-gateway');
  }

  /** The relay key's file, made first when there is none, for the OpenSSH client (`sandman ssh`). */
  async relayKeyFile(): Promise<string> {
    await this.relayKey();
    return path.join(this.dir, RELAY_KEY);
  }

  async #key(name: string, comment: string): Promise<KeyPair> {
    const file = path.join(this.dir, name);
    try {
      return await readOrMakeKey(file, comment);
    } catch (error) {
      throw new SandmanError('FAILURE', `cannot use the gateway key ${file}: ${(error as Error).message}`);
    }
  }
}
