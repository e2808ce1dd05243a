import {createPrivateKey, sign} from 'node:crypto';

/**
 * The three OpenSSH encodings sandman writes for its own ed25519 keys, on node:crypto alone: the
 * public key line, the private key file (PROTOCOL.key, unencrypted) and a host certificate
 * (PROTOCOL.certkeys). sshpk writes the same bytes (unit tests compare them), but loading it and its
 * asn1 code is about 200 KB to compile in every `session create`, `start` and `extend`, while these
 * are a few fixed layouts of SSH strings (RFC 4251 section 5). Keys of other types, which only
 * people give (`--ssh-key`, `user key add`), are still read by sshpk (src/ssh/authorized-keys.ts).
 */
const ED25519 = 'ssh-ed25519';
const CERT_TYPE = 'ssh-ed25519-cert-v01@openssh.com';
const PRIVATE_MAGIC = 'openssh-key-v1\0';
const PEM_BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const PEM_END = '-----END OPENSSH PRIVATE KEY-----';
/** PROTOCOL.certkeys: SSH2_CERT_TYPE_HOST. */
const HOST_CERTIFICATE = 2;

/** An ed25519 key as its two halves: the 32-byte seed and the 32-byte public point. */
export interface Ed25519Key {
  seed: Buffer;
  publicKey: Buffer;
  comment: string;
}

const string = (data: Buffer | string): Buffer => {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};
const uint32 = (value: number): Buffer => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
};
const uint64 = (value: bigint): Buffer => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return bytes;
};

/** Reads SSH strings and integers in order; a short or malformed buffer throws. */
class Reader {
  #offset = 0;
  constructor(private readonly bytes: Buffer) {}

  string(): Buffer {
    const length = this.uint32();
    if (this.#offset + length > this.bytes.length) throw new Error('truncated SSH string');
    const value = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  text(): string {
    return this.string().toString('utf8');
  }

  uint32(): number {
    if (this.#offset + 4 > this.bytes.length) throw new Error('truncated SSH integer');
    const value = this.bytes.readUInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }
}

/** The public key's wire form: string "ssh-ed25519", string the point. */
function ed25519PublicBlob(publicKey: Buffer): Buffer {
  return Buffer.concat([string(ED25519), string(publicKey)]);
}

/** One authorized_keys / .pub line. */
export function ed25519PublicLine(publicKey: Buffer, comment = ''): string {
  return `${ED25519} ${ed25519PublicBlob(publicKey).toString('base64')}${comment ? ` ${comment}` : ''}`;
}

/** The public point of an `ssh-ed25519 AAAA…` line; undefined for any other key type. */
export function parseEd25519PublicLine(line: string): Buffer | undefined {
  const [type, blob] = line.trim().split(/\s+/);
  if (type !== ED25519 || !blob) return undefined;
  const reader = new Reader(Buffer.from(blob, 'base64'));
  if (reader.text() !== ED25519) return undefined;
  const point = reader.string();
  return point.length === 32 ? Buffer.from(point) : undefined;
}

/**
 * The private key file `ssh -i` reads (PROTOCOL.key, cipher "none"). `checkint` is the pair of
 * equal random words OpenSSH uses to tell a wrong passphrase; with no passphrase any value does.
 */
export function ed25519PrivateKeyFile(key: Ed25519Key, checkint: number): string {
  const secret = [
    uint32(checkint),
    uint32(checkint),
    string(ED25519),
    string(key.publicKey),
    // OpenSSH's ed25519 secret key is the seed followed by the public point.
    string(Buffer.concat([key.seed, key.publicKey])),
    string(key.comment),
  ];
  const unpadded = Buffer.concat(secret);
  // Padded with 1, 2, 3… to the cipher's block size (8 for "none").
  const padding = Buffer.from(Array.from({length: (8 - (unpadded.length % 8)) % 8}, (_, index) => index + 1));
  const body = Buffer.concat([
    Buffer.from(PRIVATE_MAGIC, 'latin1'),
    string('none'),
    string('none'),
    string(''),
    uint32(1),
    string(ed25519PublicBlob(key.publicKey)),
    string(Buffer.concat([unpadded, padding])),
  ]).toString('base64');
  const lines = body.match(/.{1,70}/g) ?? [];
  return `${PEM_BEGIN}\n${lines.join('\n')}\n${PEM_END}\n`;
}

/**
 * An unencrypted ed25519 private key file (as sandman writes them); undefined for any other key
 * type or an encrypted file, which the caller reports.
 */
export function parseEd25519PrivateKeyFile(text: string): Ed25519Key | undefined {
  const begin = text.indexOf(PEM_BEGIN);
  const end = text.indexOf(PEM_END);
  if (begin < 0 || end < begin) return undefined;
  const bytes = Buffer.from(text.slice(begin + PEM_BEGIN.length, end).replace(/\s+/g, ''), 'base64');
  if (bytes.subarray(0, PRIVATE_MAGIC.length).toString('latin1') !== PRIVATE_MAGIC) return undefined;
  const reader = new Reader(bytes.subarray(PRIVATE_MAGIC.length));
  if (reader.text() !== 'none' || reader.text() !== 'none') return undefined;
  reader.string();
  if (reader.uint32() !== 1) return undefined;
  reader.string();
  const secret = new Reader(reader.string());
  if (secret.uint32() !== secret.uint32()) return undefined;
  if (secret.text() !== ED25519) return undefined;
  const publicKey = Buffer.from(secret.string());
  const both = secret.string();
  if (publicKey.length !== 32 || both.length !== 64) return undefined;
  return {seed: Buffer.from(both.subarray(0, 32)), publicKey, comment: secret.text()};
}

/** Signs `data` with an ed25519 key; ed25519 signatures are deterministic. */
function ed25519Sign(key: Ed25519Key, data: Buffer): Buffer {
  const privateKey = createPrivateKey({
    format: 'jwk',
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      d: key.seed.toString('base64url'),
      x: key.publicKey.toString('base64url'),
    },
  });
  return sign(null, data, privateKey);
}

/**
 * A host certificate for `hostPublicKey` signed by `ca`, as one `ssh-ed25519-cert-v01@openssh.com
 * AAAA…` line. The key id is sshpk's ("host_" and the first principal); no options, no extensions
 * (a host certificate has none).
 */
export function ed25519HostCertificate(request: {
  ca: Ed25519Key;
  hostPublicKey: Buffer;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  serial: Buffer;
  nonce: Buffer;
}): string {
  const seconds = (date: Date) => BigInt(Math.floor(date.getTime() / 1000));
  const signed = Buffer.concat([
    string(CERT_TYPE),
    string(request.nonce),
    string(request.hostPublicKey),
    request.serial,
    uint32(HOST_CERTIFICATE),
    string(`host_${request.principals[0] ?? ''}`),
    string(Buffer.concat(request.principals.map((name) => string(name)))),
    uint64(seconds(request.validAfter)),
    uint64(seconds(request.validBefore)),
    string(''),
    string(''),
    string(''),
    string(ed25519PublicBlob(request.ca.publicKey)),
  ]);
  const signature = Buffer.concat([string(ED25519), string(ed25519Sign(request.ca, signed))]);
  return `${CERT_TYPE} ${Buffer.concat([signed, string(signature)]).toString('base64')}`;
}
