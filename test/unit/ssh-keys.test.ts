import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import sshpk from 'sshpk';
import {describe, expect, it} from 'vitest';

import {parseAuthorizedKeys} from '../../src/ssh/authorized-keys.js';
import {generateKeyPair, keyPairOf} from '../../src/ssh/ssh-keys.js';

describe('generateKeyPair', () => {
  it('makes an ed25519 key that OpenSSH reads, whose public half matches', async () => {
    const pair = generateKeyPair('sandman-test');
    expect(pair.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
    expect(pair.publicKey).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\S+ sandman-test$/);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sandman-key-')), 'id');
    writeFileSync(file, pair.privateKey, {mode: 0o600});
    const derived = await execa('ssh-keygen', ['-y', '-f', file]);
    expect(derived.stdout.split(' ').slice(0, 2)).toEqual(pair.publicKey.split(' ').slice(0, 2));
  });

  it('reads back the key files sshpk and ssh-keygen write (a host CA made by an earlier sandman)', async () => {
    const made = sshpk.parsePrivateKey(generateKeyPair('x').privateKey, 'openssh');
    made.comment = 'sandman-host-ca';
    const bySshpk = made.toString('openssh');
    expect(keyPairOf(bySshpk).publicKey).toBe(made.toPublic().toString('ssh'));
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sandman-key-')), 'ca');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'made-by-ssh-keygen', '-f', file]);
    expect(keyPairOf(readFileSync(file, 'utf8')).publicKey).toBe(readFileSync(`${file}.pub`, 'utf8').trim());
  });

  it('refuses to use an encrypted or non-ed25519 key file, saying what it expected', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sandman-key-'));
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', path.join(dir, 'locked')]);
    await execa('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', path.join(dir, 'ecdsa')]);
    for (const name of ['locked', 'ecdsa'])
      expect(() => keyPairOf(readFileSync(path.join(dir, name), 'utf8'))).toThrow(/unencrypted ed25519/);
  });

  it('makes a different key every time', () => {
    expect(generateKeyPair('a').publicKey).not.toBe(generateKeyPair('a').publicKey);
  });
});

describe('parseAuthorizedKeys', () => {
  const pub = generateKeyPair('me@laptop').publicKey;

  it('accepts OpenSSH public keys, several lines and comments', () => {
    expect(parseAuthorizedKeys(`${pub}\n`, 'k.pub')).toBe(pub);
    const second = generateKeyPair('x').publicKey;
    expect(parseAuthorizedKeys(`# mine\n${pub}\n\n${second}\r\n`, 'k.pub').split('\n')).toHaveLength(2);
  });

  it('refuses a private key, naming the file', () => {
    expect(() => parseAuthorizedKeys(generateKeyPair('x').privateKey, 'id_ed25519')).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringMatching(/id_ed25519 holds a PRIVATE key/),
      }),
    );
  });

  it.each(['', 'garbage', 'ssh-ed25519 not-base64!!', 'ssh-rsa AAAA'])('refuses %j', (text) => {
    expect(() => parseAuthorizedKeys(text, 'k.pub')).toThrow(expect.objectContaining({exitCode: 2}));
  });
});
