import {generateKeyPairSync, randomBytes} from 'node:crypto';

import {ed25519PrivateKeyFile, ed25519PublicLine, parseEd25519PrivateKeyFile} from './openssh-ed25519.js';

export interface KeyPair {
  /** OpenSSH private key format, as `ssh -i` reads it. */
  privateKey: string;
  /** One `authorized_keys` line. */
  publicKey: string;
}

/** A fresh ed25519 key pair: Node makes the key, written in OpenSSH's own formats. */
export function generateKeyPair(comment: string): KeyPair {
  const jwk = generateKeyPairSync('ed25519').privateKey.export({format: 'jwk'});
  const key = {seed: Buffer.from(jwk.d!, 'base64url'), publicKey: Buffer.from(jwk.x!, 'base64url'), comment};
  return {
    privateKey: ed25519PrivateKeyFile(key, randomBytes(4).readUInt32BE()),
    publicKey: ed25519PublicLine(key.publicKey, comment),
  };
}

/**
 * The pair of a private key file sandman wrote (the host CA, the gateway's keys); anything else
 * (another type, an encrypted file) is an error naming what was expected.
 */
export function keyPairOf(privateKey: string): KeyPair {
  const key = parseEd25519PrivateKeyFile(privateKey);
  if (!key)
    throw new Error('not an unencrypted ed25519 private key in OpenSSH format (as sandman makes them)');
  return {privateKey, publicKey: ed25519PublicLine(key.publicKey, key.comment)};
}
