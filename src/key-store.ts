/** Session private keys: `<stateDir>/keys/<session-id>`, directory 0700, file 0600 (README "Files"). */
export interface KeyStore {
  pathFor(sessionId: string): string;
  write(sessionId: string, privateKey: string): Promise<string>;
  /** The private key of a session (made by another process, e.g. a queued one); null when there is none. */
  read(sessionId: string): Promise<string | null>;
  /** Already gone counts as done. */
  remove(sessionId: string): Promise<void>;
}
