import sshpk from 'sshpk';

import {invalidInput} from '../core/errors.js';

/**
 * Checks public keys the operator gave (`--ssh-key FILE`, `user key add NAME FILE`) and returns
 * them as `authorized_keys` lines; `source` names them in messages. A private key is refused
 * loudly: pasting one by mistake must not install it anywhere. sshpk reads every key type people
 * use; callers import this module only when keys are given (it is 200 KB to load).
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

/** The SHA256 fingerprint `ssh-keygen -l` prints for a key line. */
export function fingerprintOf(line: string): string {
  return sshpk.parseKey(line, 'ssh').fingerprint('sha256').toString();
}
