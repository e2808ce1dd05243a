import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';
import {gunzip} from 'node:zlib';

import type {AuditHistory} from '../usage/audit-history.js';

/**
 * The audit log and what logrotate made of it: `audit.jsonl`, `audit.jsonl.1`, `audit.jsonl.2.gz`,
 * `audit.jsonl-20261101(.gz)` (dateext). Compressed files are read through gunzip.
 */
export class RotatedAuditFiles implements AuditHistory {
  constructor(private readonly file: string) {}

  async lines(): Promise<{lines: string[]; files: string[]}> {
    const dir = path.dirname(this.file);
    const base = path.basename(this.file);
    const names = (await readdir(dir).catch(() => [] as string[])).filter(
      (name) => name === base || (name.startsWith(base) && /^[.-][\w.-]+$/.test(name.slice(base.length))),
    );
    const lines: string[] = [];
    const files: string[] = [];
    for (const name of names.sort()) {
      const raw = await readFile(path.join(dir, name)).catch(() => undefined);
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
