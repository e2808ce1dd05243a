/**
 * A session's key material on the host (docs/admin/upgrades-and-backups.md "Where things are"): its private key
 * `<stateDir>/keys/<session-id>` (directory 0700, file 0600), its SSH host key with the host
 * certificate in `<stateDir>/keys/<session-id>.host/` (0700), and its authorized_keys with its login
 * banner in `<stateDir>/keys/<session-id>.session/` (0755, files 0644); the container mounts both
 * directories read-only where its sshd reads them.
 */
export interface KeyStore {
  pathFor(sessionId: string): string;
  write(sessionId: string, privateKey: string): Promise<string>;
  /** The private key of a session (made by another process, e.g. a queued one); null when there is none. */
  read(sessionId: string): Promise<string | null>;
  /** Writes (or replaces) the session's host key and certificate; returns the directory to mount. */
  writeHostKey(sessionId: string, host: {privateKey: string; certificate: string}): Promise<string>;
  /**
   * The session's host key directory, or undefined when it has none: its key is inside its
   * container (Swarm mode, or a session an earlier sandman made).
   */
  hostKeyDir(sessionId: string): Promise<string | undefined>;
  /** Replaces the certificate in the session's host key directory (it must have one). */
  renewHostCertificate(sessionId: string, certificate: string): Promise<void>;
  /** Writes (or replaces) the session's authorized_keys and login banner; returns the directory to mount. */
  writeSessionFiles(sessionId: string, files: SessionFiles): Promise<string>;
  /**
   * The in-session credential and the listener's URL, in the session files directory (docs/admin/sessions.md "The in-session command"): the credential readable by the session's user alone (mode 0400, her uid).
   */
  writeSelfAccess(sessionId: string, access: {secret: string; url: string; uid: number}): Promise<void>;
  /** The session's files directory, or undefined when it has none (they are inside its container). */
  sessionFilesDir(sessionId: string): Promise<string | undefined>;
  /** Takes the files directory away: the session's files go into its container from then on. */
  removeSessionFiles(sessionId: string): Promise<void>;
  /** Everything of the session's; already gone counts as done. */
  remove(sessionId: string): Promise<void>;
}

/** What a session's sshd reads at each login: whom it lets in, until when, and what it says then. */
export interface SessionFiles {
  authorizedKeys: string;
  motd: string;
}

/** The file names in a session files directory, as the image's entrypoint finds them. */
export const SESSION_FILES = {authorizedKeys: 'authorized_keys', motd: 'motd'} as const;

/** The file names in a host key directory, as sshd in the container finds them. */
export const HOST_KEY_FILES = {
  privateKey: 'ssh_host_ed25519_key',
  certificate: 'ssh_host_ed25519_key-cert.pub',
};
