/** Session private keys: `<stateDir>/keys/<session-id>`, directory 0700, file 0600 (README "Files"). */
export interface KeyStore {
  pathFor(sessionId: string): string;
  write(sessionId: string, privateKey: string): Promise<string>;
  /** Already gone counts as done. */
  remove(sessionId: string): Promise<void>;
}
