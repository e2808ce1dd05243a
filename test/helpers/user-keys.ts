import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {expect} from 'vitest';

import type {Sandbox} from './sandbox.js';

/**
 * Users added each with a fresh ed25519 key (`sandman user add NAME --ssh-key … FLAGS`), the keys
 * in `keys` (sandbox/keys/NAME), and the host keys a laptop trusts (`sandman known-hosts`) in
 * `knownHosts` (sandbox/known_hosts).
 */
export async function addUsersWithKeys(
  sandbox: Sandbox,
  users: ReadonlyArray<readonly [string, readonly string[]]>,
): Promise<{keys: string; knownHosts: string}> {
  const keys = path.join(sandbox.dir, 'keys');
  await mkdir(keys);
  for (const [name, flags] of users) {
    const key = path.join(keys, name);
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@laptop`, '-f', key]);
    const added = await sandbox.run(['user', 'add', name, '--ssh-key', `${key}.pub`, ...flags]);
    expect(added.exitCode, added.stderr).toBe(0);
  }
  const knownHosts = path.join(sandbox.dir, 'known_hosts');
  await writeFile(knownHosts, (await sandbox.run(['known-hosts'])).stdout + '\n');
  return {keys, knownHosts};
}
