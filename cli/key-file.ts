import {readFile} from 'node:fs/promises';

import {invalidInput} from '../src/core/errors.js';
import type {FlagSpec} from './command-spec.js';

/**
 * `--ssh-key FILE`, declared once: `session create` takes one key, `user add`/`user set` several
 * (`multiple`); `use` says what the key is for there.
 */
export function sshKeyFlag(use: string, multiple = false): FlagSpec {
  return multiple
    ? {kind: 'string', description: `${use} (repeatable; '-' reads stdin)`, multiple}
    : {kind: 'string', description: `${use} ('-' reads stdin)`};
}

/**
 * A public key file an admin names (`--ssh-key FILE`, `user key add NAME FILE`), or stdin for
 * `-`; `label` names it in the error (`--ssh-key`, `key file`).
 */
export async function readKeyFile(source: string, label: string): Promise<{text: string; source: string}> {
  try {
    if (source === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return {text: Buffer.concat(chunks).toString('utf8'), source: 'stdin'};
    }
    return {text: await readFile(source, 'utf8'), source};
  } catch (error) {
    throw invalidInput(`cannot read ${label} ${source}: ${(error as Error).message}`);
  }
}
