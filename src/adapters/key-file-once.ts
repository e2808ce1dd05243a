import {chmod, link, mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {errnoCode} from '../errors.js';
import {generateKeyPair, keyPairOf, type KeyPair} from '../ssh/ssh-keys.js';

/**
 * A private key file made on first use and never replaced (the host CA, the gateway's keys): read
 * it, or make it (directory 0700, file 0600). Concurrent first uses agree: link() lets one win.
 */
export async function readOrMakeKey(file: string, comment: string): Promise<KeyPair> {
  try {
    return await readKey(file);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  const dir = path.dirname(file);
  await mkdir(dir, {recursive: true, mode: 0o700});
  await chmod(dir, 0o700);
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
