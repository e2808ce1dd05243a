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
    | 'keep'
    /** The in-session sandman (docs/admin/sessions.md "The in-session command"): status, web; reason names the command. */
    | 'self'
    // Batch jobs (docs/admin/jobs.md): `session` is null, `job` names it.
    | 'job-submit'
    | 'job-start'
    | 'job-end'
    | 'job-cancel'
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
  /** job-*: the job's ID; job-end: how it ended and its exit code. */
  job?: string;
  state?: string;
  exit_code?: number | null;
}

/** One line per action (docs/admin/audit-and-metrics.md). A broken audit log warns but never blocks the action. */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}
