import {randomBytes} from 'node:crypto';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import sshpk from 'sshpk';
import {describe, expect, it} from 'vitest';

import {
  authorizedKeysUntil,
  knownHostsLine,
  signHostCertificate,
  signingNatively,
} from '../../src/ssh-certificates.js';
import {generateKeyPair} from '../../src/ssh-keys.js';

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

  it('carry a signature that verifies against the CA, the same sshpk itself would make', () => {
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
    // ed25519 is deterministic: sshpk's JavaScript signer gives the same bytes for the same data.
    const data = randomBytes(300);
    const signed = (key: sshpk.PrivateKey) => {
      const signer = key.createSign('sha512');
      signer.update(data);
      return (signer.sign() as sshpk.Signature).toBuffer('ssh');
    };
    const native = signed(signingNatively(sshpk.parsePrivateKey(ca.privateKey, 'openssh')));
    expect(native).toEqual(signed(sshpk.parsePrivateKey(ca.privateKey, 'openssh')));
    expect(native.length).toBeGreaterThan(64);
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
