import {randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import sshpk from 'sshpk';
import {describe, expect, it} from 'vitest';

import {
  ed25519HostCertificate,
  parseEd25519PrivateKeyFile,
  parseEd25519PublicLine,
} from '../../src/ssh/openssh-ed25519.js';
import {authorizedKeysUntil, knownHostsLine, signHostCertificate} from '../../src/ssh/ssh-certificates.js';
import {generateKeyPair} from '../../src/ssh/ssh-keys.js';

describe('host certificates', () => {
  it('are host certificates OpenSSH reads: CA, principals and validity as asked', async () => {
    const ca = generateKeyPair('sandman-host-ca');
    const host = generateKeyPair('host');
    const certificate = signHostCertificate({
      caPrivateKey: ca.privateKey,
      hostPublicKey: host.publicKey,
      principals: ['gpu01.example.org', '127.0.0.1'],
      validAfter: new Date('2026-11-24T12:00:00Z'),
      validBefore: new Date('2026-11-24T14:00:00Z'),
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'sandman-cert-'));
    writeFileSync(path.join(dir, 'cert.pub'), certificate);
    writeFileSync(path.join(dir, 'ca.pub'), ca.publicKey + '\n');
    const shown = (await execa('ssh-keygen', ['-L', '-f', path.join(dir, 'cert.pub')], {env: {TZ: 'UTC'}}))
      .stdout;
    const caFingerprint = (await execa('ssh-keygen', ['-l', '-f', path.join(dir, 'ca.pub')])).stdout.split(
      ' ',
    )[1];
    expect(shown).toContain('ssh-ed25519-cert-v01@openssh.com host certificate');
    expect(shown).toContain(`Signing CA: ED25519 ${caFingerprint}`);
    expect(shown).toContain('Valid: from 2026-11-24T12:00:00 to 2026-11-24T14:00:00');
    expect(shown).toMatch(/Principals: \n\s+gpu01\.example\.org\n\s+127\.0\.0\.1\n/);
  });

  it('carry a signature that verifies against the CA, byte for byte what sshpk makes', () => {
    const ca = generateKeyPair('sandman-host-ca');
    const host = generateKeyPair('host');
    const text = signHostCertificate({
      caPrivateKey: ca.privateKey,
      hostPublicKey: host.publicKey,
      principals: ['gpu01.example.org'],
      validAfter: new Date('2026-11-24T12:00:00Z'),
      validBefore: new Date('2026-11-24T14:00:00Z'),
    });
    const certificate = sshpk.parseCertificate(text, 'openssh');
    expect(certificate.isSignedByKey(sshpk.parseKey(ca.publicKey, 'ssh'))).toBe(true);
    expect(certificate.isSignedByKey(sshpk.parseKey(host.publicKey, 'ssh'))).toBe(false);
    // The same request through sshpk (ed25519 signatures are deterministic): the same bytes.
    const nonce = randomBytes(32);
    const serial = randomBytes(8);
    const request = {
      principals: ['gpu01.example.org', '127.0.0.1'],
      validAfter: new Date('2026-11-24T12:00:00Z'),
      validBefore: new Date('2026-11-24T14:00:00Z'),
    };
    const bySshpk = sshpk.createCertificate(
      request.principals.map((name) => sshpk.identityForHost(name)),
      sshpk.parseKey(host.publicKey, 'ssh'),
      sshpk.identityForHost('sandman-host-ca'),
      sshpk.parsePrivateKey(ca.privateKey, 'openssh'),
      {validFrom: request.validAfter, validUntil: request.validBefore, purposes: ['serverAuth'], serial},
    );
    bySshpk.signatures.openssh!.nonce = nonce;
    // sshpk signed with its own nonce; sign again now that the nonce is the one given here.
    bySshpk.signWith(sshpk.parsePrivateKey(ca.privateKey, 'openssh'));
    const native = ed25519HostCertificate({
      ...request,
      ca: parseEd25519PrivateKeyFile(ca.privateKey)!,
      hostPublicKey: parseEd25519PublicLine(host.publicKey)!,
      serial,
      nonce,
    });
    expect(native).toBe(bySshpk.toString('openssh').trim());
  });

  it('refuse a CA key that is not ed25519, saying so', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sandman-cert-'));
    await execa('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', path.join(dir, 'ca')]);
    expect(() =>
      signHostCertificate({
        caPrivateKey: readFileSync(path.join(dir, 'ca'), 'utf8'),
        hostPublicKey: generateKeyPair('host').publicKey,
        principals: ['h'],
        validAfter: new Date(),
        validBefore: new Date(Date.now() + 60_000),
      }),
    ).toThrow(/host CA key is not an unencrypted ed25519 key/);
  });

  it('are trusted for every port of the host name by one known_hosts line', () => {
    expect(knownHostsLine('ssh-ed25519 AAAAC3 sandman-host-ca\n', 'gpu01.example.org')).toBe(
      '@cert-authority gpu01.example.org,[gpu01.example.org]:* ssh-ed25519 AAAAC3 sandman-host-ca',
    );
  });
});

describe('authorized keys with an expiry', () => {
  it('carry expiry-time in UTC on every line, replacing an earlier one', () => {
    const keys = 'ssh-ed25519 AAAA1 a\nssh-rsa AAAA2 b\n';
    const first = authorizedKeysUntil(keys, '2026-11-24T14:05:09Z');
    expect(first).toBe(
      'expiry-time="20261124140509Z" ssh-ed25519 AAAA1 a\nexpiry-time="20261124140509Z" ssh-rsa AAAA2 b\n',
    );
    expect(authorizedKeysUntil(first, '2026-11-25T00:00:00Z')).toBe(
      'expiry-time="20261125000000Z" ssh-ed25519 AAAA1 a\nexpiry-time="20261125000000Z" ssh-rsa AAAA2 b\n',
    );
  });
});
