/** The audit log with its rotated files (audit.jsonl.1, audit.jsonl.2.gz, …), as lines of text. */
export interface AuditHistory {
  lines(): Promise<{lines: string[]; files: string[]}>;
}
