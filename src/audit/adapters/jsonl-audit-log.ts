import {appendFile, mkdir} from 'node:fs/promises';
import {userInfo} from 'node:os';
import path from 'node:path';

import type {AuditEntry, AuditLog} from '../audit-log.js';
import {isoSeconds, type Clock} from '../../core/clock.js';
import type {Warn} from '../../core/warn.js';

/** Who ran sandman: the sudo caller when there is one (docs/admin/audit-and-metrics.md). */
export function actor(env: NodeJS.ProcessEnv = process.env): string {
  return env.SUDO_USER || env.USER || safeUserName();
}

function safeUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}

/** One JSON line per action at `auditLog`. */
export class JsonlAuditLog implements AuditLog {
  constructor(
    readonly file: string,
    private readonly clock: Clock,
    private readonly warn: Warn,
    /** Who acts, when not the user running sandman (the HTTP API names its caller). */
    private readonly actorName?: string,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const line =
      JSON.stringify({time: isoSeconds(this.clock.now()), actor: this.actorName ?? actor(), ...entry}) + '\n';
    try {
      await mkdir(path.dirname(this.file), {recursive: true, mode: 0o750});
      await appendFile(this.file, line, {mode: 0o640});
    } catch (error) {
      this.warn(`cannot write audit log ${this.file}: ${(error as Error).message}`);
    }
  }
}
