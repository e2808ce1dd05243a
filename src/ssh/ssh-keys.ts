import {generateKeyPairSync} from 'node:crypto';

import sshpk from 'sshpk';

import {invalidInput} from './errors.js';

export interface KeyPair {
  /** OpenSSH private key format, as `ssh -i` reads it. */
  privateKey: string;
  /** One `authorized_keys` line. */
  publicKey: string;
}

/**
 * A fresh ed25519 key pair. Node makes the key; sshpk writes the OpenSSH container format. The key
 * goes to sshpk as its raw parts (from Node's JWK export): through PKCS#8 instead, sshpk recomputes
 * the public half with tweetnacl's pure-JavaScript code, about 40 ms of every `session create`.
 */
export function generateKeyPair(comment: string): KeyPair {
  const {privateKey} = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({format: 'jwk'});
  const key = new sshpk.PrivateKey({
    type: 'ed25519',
    parts: [
      {name: 'A', data: Buffer.from(jwk.x!, 'base64url')},
      {name: 'k', data: Buffer.from(jwk.d!, 'base64url')},
    ],
  });
  key.comment = comment;
  return {privateKey: key.toString('openssh'), publicKey: key.toPublic().toString('ssh')};
}

/**
 * Checks public keys the operator gave (`--ssh-key FILE`, `user key add NAME FILE`) and returns
 * them as `authorized_keys` lines; `source` names them in messages. A private key is refused
 * loudly: pasting one by mistake must not install it anywhere.
 */
export function parseAuthorizedKeys(text: string, source: string): string {
  if (/PRIVATE KEY-----/.test(text)) {
    throw invalidInput(`${source} holds a PRIVATE key; give the public key (the .pub file) instead`);
  }
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  if (lines.length === 0) throw invalidInput(`${source} holds no public key`);
  const keys = lines.map((line, index) => {
    try {
      const key = sshpk.parseKey(line, 'ssh');
      // Comments end up in a file inside the container; keep them printable and on one line.
      key.comment = /^[\x20-\x7e]*$/.test(key.comment ?? '') ? key.comment : '';
      return key.toString('ssh').trim();
    } catch {
      throw invalidInput(
        `${source}: line ${index + 1} is not an OpenSSH public key (expected e.g. "ssh-ed25519 AAAA... user@host")`,
      );
    }
  });
  return keys.join('\n');
}
