import {appendFile, mkdir} from 'node:fs/promises';
import {userInfo} from 'node:os';
import path from 'node:path';

import {isoSeconds, type Clock} from './clock.js';

export interface AuditEntry {
  action: 'create' | 'rm' | 'extend' | 'reap';
  session: string | null;
  user: string | null;
  result: 'ok' | 'failed';
  /** Why (reap: expired, orphan, dangling, stale, idle) or what failed. */
  reason?: string;
  expires_at?: string;
}

/** Who ran sandman: the sudo caller when there is one, as SPEC.md section 9 asks. */
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

/** One JSON line per action at `auditLog`. A broken audit log warns but never blocks the action. */
export class AuditLog {
  constructor(
    readonly file: string,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    const line = JSON.stringify({time: isoSeconds(this.clock.now()), actor: actor(), ...entry}) + '\n';
    try {
      await mkdir(path.dirname(this.file), {recursive: true, mode: 0o750});
      await appendFile(this.file, line, {mode: 0o640});
    } catch (error) {
      process.stderr.write(
        `sandman: warning: cannot write audit log ${this.file}: ${(error as Error).message}\n`,
      );
    }
  }
}
