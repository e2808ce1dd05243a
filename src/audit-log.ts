export interface AuditEntry {
  action: 'create' | 'rm' | 'extend' | 'reap';
  session: string | null;
  user: string | null;
  result: 'ok' | 'failed';
  /** Why (reap: expired, orphan, dangling, stale, idle) or what failed. */
  reason?: string;
  expires_at?: string;
}

/** One line per action (README "Audit log"). A broken audit log warns but never blocks the action. */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}
