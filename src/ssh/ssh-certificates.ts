import {createPrivateKey, randomBytes, sign, type KeyObject} from 'node:crypto';
import {Writable} from 'node:stream';

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
  const ca = signingNatively(sshpk.parsePrivateKey(request.caPrivateKey, 'openssh'));
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

/**
 * sshpk signs ed25519 in JavaScript (tweetnacl), and signs a certificate twice (its OpenSSH and its
 * X.509 form): about 30 ms of CPU and its garbage on every create, which 20 creates at once on two
 * cores feel (BENCHMARKS.md, "Fourth round"). node:crypto signs the same bytes natively; ed25519
 * signatures are deterministic, so the result is the same. Other key types keep sshpk's signer.
 */
export function signingNatively(key: sshpk.PrivateKey): sshpk.PrivateKey {
  if (key.type !== 'ed25519') return key;
  // The seed (k) and the public point (A); sshpk's own signer joins them for tweetnacl.
  const part = (name: string) => key.parts.find((each) => each.name === name)!.data.toString('base64url');
  const native = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: part('k'),
      x: part('A'),
    },
  });
  key.createSign = () => new NativeEd25519Signer(native) as unknown as sshpk.Signer;
  return key;
}

/** What sshpk's own ed25519 signer is (a Writable collecting the data, then sign()), on node:crypto. */
class NativeEd25519Signer extends Writable {
  readonly #chunks: Buffer[] = [];

  constructor(private readonly key: KeyObject) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.#chunks.push(chunk);
    done();
  }

  update(chunk: Buffer | string): void {
    this.#chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'binary') : chunk);
  }

  sign(): sshpk.Signature {
    const signature = sshpk.parseSignature(
      sign(null, Buffer.concat(this.#chunks), this.key),
      'ed25519',
      'raw',
    );
    signature.hashAlgorithm = 'sha512';
    return signature;
  }
}
