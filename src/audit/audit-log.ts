export interface AuditEntry {
  /** `queue`: a create put in line (ok), or leaving it unstarted (failed: cancelled, queue-timeout). */
  action:
    | 'create'
    | 'rm'
    | 'extend'
    | 'reap'
    | 'queue'
    | 'user-add'
    | 'user-set'
    | 'user-rm'
    | 'user-key-rm'
    | 'gateway-login'
    | 'terminal-open'
    | 'stop'
    | 'start'
    | 'web-sign-in';
  session: string | null;
  user: string | null;
  result: 'ok' | 'failed';
  /** Why (reap: expired, orphan, dangling, stale, idle) or what failed. */
  reason?: string;
  expires_at?: string;
  /** create: the GPU the session got and its share of that GPU (usage accounting). */
  gpu_uuid?: string | null;
  mig_profile?: string | null;
  gpu_fraction?: number | null;
  /** reap: false when the session was started again rather than removed. */
  ended?: boolean;
  /** gateway-login, terminal-open, web-sign-in: the client's address. */
  source?: string;
}

/** One line per action (README "Audit log"). A broken audit log warns but never blocks the action. */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}
