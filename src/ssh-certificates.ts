import {randomBytes} from 'node:crypto';

import sshpk from 'sshpk';

/**
 * OpenSSH host certificates, signed with sshpk (no ssh-keygen needed on the host). One CA per
 * sandman host signs every session's host key, so a user trusts all sessions of the host, on any
 * port, with one `@cert-authority` line (README "Connecting from a laptop and VS Code").
 */
export function signHostCertificate(request: {
  caPrivateKey: string;
  hostPublicKey: string;
  /** The names the user connects with (the certificate's principals). */
  principals: string[];
  validAfter: Date;
  validBefore: Date;
}): string {
  const ca = sshpk.parsePrivateKey(request.caPrivateKey, 'openssh');
  const host = sshpk.parseKey(request.hostPublicKey, 'ssh');
  const certificate = sshpk.createCertificate(
    request.principals.map((name) => sshpk.identityForHost(name)),
    host,
    sshpk.identityForHost('sandman-host-ca'),
    ca,
    {
      validFrom: request.validAfter,
      validUntil: request.validBefore,
      purposes: ['serverAuth'],
      serial: randomBytes(8),
    },
  );
  return certificate.toString('openssh').trim() + '\n';
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
      .map((line) => `expiry-time="${stamp}" ${line.replace(/^expiry-time="[^"]*" /, '')}`)
      .join('\n') + '\n'
  );
}
