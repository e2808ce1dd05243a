import {randomBytes} from 'node:crypto';

import {
  ed25519HostCertificate,
  parseEd25519PrivateKeyFile,
  parseEd25519PublicLine,
} from './openssh-ed25519.js';

/**
 * OpenSSH host certificates, signed on node:crypto (no ssh-keygen needed on the host). One CA per
 * sandman host signs every session's host key, so a user trusts all sessions of the host, on any
 * port, with one `@cert-authority` line (docs/admin/gateway.md). Both keys
 * are sandman's own ed25519 keys.
 */
export function signHostCertificate(request: {
  caPrivateKey: string;
  hostPublicKey: string;
  /** The names the user connects with (the certificate's principals). */
  principals: string[];
  validAfter: Date;
  validBefore: Date;
}): string {
  const ca = parseEd25519PrivateKeyFile(request.caPrivateKey);
  if (!ca) throw new Error('the host CA key is not an unencrypted ed25519 key in OpenSSH format');
  const hostPublicKey = parseEd25519PublicLine(request.hostPublicKey);
  if (!hostPublicKey)
    throw new Error(`the host key to certify is not an ed25519 key: ${request.hostPublicKey}`);
  return (
    ed25519HostCertificate({
      ca,
      hostPublicKey,
      principals: request.principals,
      validAfter: request.validAfter,
      validBefore: request.validBefore,
      serial: randomBytes(8),
      nonce: randomBytes(32),
    }) + '\n'
  );
}

/** The known_hosts line that trusts every host key the CA signed, for this host name on any port. */
export function knownHostsLine(caPublicKey: string, hostName: string): string {
  return `@cert-authority ${hostName},[${hostName}]:* ${caPublicKey.trim()}`;
}

/** authorized_keys lines that stop working at `expiresAt`, even if nobody removes the session. */
export function authorizedKeysUntil(keys: string, expiresAt: string): string {
  // expiry-time takes YYYYMMDDHHMMSS; the Z suffix makes it UTC whatever the container's time zone.
  const stamp = expiresAt.replace(/[-:T]/g, '').replace(/\.\d+/, '').replace(/Z$/, '') + 'Z';
  return (
    keys
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const key = line.replace(/^expiry-time="[^"]*"[ ,]/, '');
        // A line with options of its own (the gateway's from="…") gets one more, comma-joined.
        return /^(ssh-|ecdsa-|sk-)/.test(key)
          ? `expiry-time="${stamp}" ${key}`
          : `expiry-time="${stamp}",${key}`;
      })
      .join('\n') + '\n'
  );
}
