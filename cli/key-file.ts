import {readFile} from 'node:fs/promises';

import {invalidInput} from '../src/errors.js';

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
