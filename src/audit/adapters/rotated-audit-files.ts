import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';
import {gunzip} from 'node:zlib';

import {errnoCode, stateUnavailable} from '../../core/errors.js';
import type {AuditHistory} from '../../usage/audit-history.js';

/**
 * A missing log is no history yet; any other failure (EACCES for an account that may not read
 * it) is exit 7, as a table without those sessions would look complete.
 */
const unreadable = (what: string) => (error: unknown) => {
  if (errnoCode(error) === 'ENOENT') return undefined;
  throw stateUnavailable(
    `cannot read the audit log ${what}: ${(error as Error).message}; usage needs all of it (run as root, or give this account read access)`,
    error,
  );
};

/**
 * The audit log and what logrotate made of it: `audit.jsonl`, `audit.jsonl.1`, `audit.jsonl.2.gz`,
 * `audit.jsonl-20261101(.gz)` (dateext). Compressed files are read through gunzip.
 */
export class RotatedAuditFiles implements AuditHistory {
  constructor(private readonly file: string) {}

  async lines(): Promise<{lines: string[]; files: string[]}> {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    const names = ((await readdir(dir).catch(unreadable(dir))) ?? []).filter(
      (name) => name === base || (name.startsWith(base) && /^[.-][\w.-]+$/.test(name.slice(base.length))),
    );
    const lines: string[] = [];
    const files: string[] = [];
    for (const name of names.sort()) {
      const raw = await readFile(path.join(dir, name)).catch(unreadable(path.join(dir, name)));
      if (!raw) continue;
      const text = name.endsWith('.gz')
        ? (await promisify(gunzip)(raw)).toString('utf8')
        : raw.toString('utf8');
      for (const line of text.split('\n')) lines.push(line);
      files.push(path.join(dir, name));
    }
    return {lines, files};
  }
}
