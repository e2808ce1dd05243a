/**
 * The process being told to stop (Ctrl-C, systemd stop, kill) in the middle of work that reserved
 * resources. Without a handler an interrupted create would leave a container until the next reap.
 */
export interface Signals {
  /** Runs `cleanup` on termination, then exits; returns a function that unregisters it. */
  onTermination(cleanup: () => Promise<void>): () => void;
}
