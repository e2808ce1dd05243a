import {chmod, link, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {errnoCode} from '../errors.js';
import {generateKeyPair, keyPairOf, type KeyPair} from '../../ssh/ssh-keys.js';

/**
 * A private key file made on first use and never replaced (the host CA, the gateway's keys): read
 * it, or make it (file 0600, its public half `.pub` 0644 beside it). Concurrent first uses agree:
 * link() lets one win. The directory gets `dirMode` (0700; the CA's 0711, so any account may open
 * its `.pub` by name) on every use, so a directory an earlier sandman made 0700 gets it too.
 */
export async function readOrMakeKey(file: string, comment: string, dirMode = 0o700): Promise<KeyPair> {
  const dir = path.dirname(file);
  let key: KeyPair;
  try {
    key = await readKey(file);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    await mkdir(dir, {recursive: true, mode: 0o700});
    key = await makeKey(file, comment);
  }
  await chmod(dir, dirMode);
  return key;
}

async function makeKey(file: string, comment: string): Promise<KeyPair> {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, generateKeyPair(comment).privateKey, {mode: 0o600});
  await link(temp, file).catch((error: unknown) => {
    if (errnoCode(error) !== 'EEXIST') throw error;
  });
  await rm(temp, {force: true});
  const key = await readKey(file);
  // For people: the public half beside it, as authorized_keys and known_hosts take it.
  await writeFile(`${file}.pub`, key.publicKey + '\n', {mode: 0o644});
  return key;
}

async function readKey(file: string): Promise<KeyPair> {
  return keyPairOf(await readFile(file, 'utf8'));
}
