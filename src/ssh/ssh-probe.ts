/** Whether a session's SSH server answers (implemented over TCP: it reads the `SSH-2.0-` banner). */
export interface SshProbe {
  /**
   * Polls until `host:port` answers with an `SSH-2.0-` banner, or `timeoutMs` passes (false).
   * `check` runs between attempts and may throw to stop early (e.g. the container exited).
   */
  waitForBanner(options: {
    host: string;
    port: number;
    timeoutMs: number;
    check?: () => Promise<void>;
  }): Promise<boolean>;
}
