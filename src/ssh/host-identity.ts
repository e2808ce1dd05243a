/**
 * This host's SSH identity: one certificate authority (ed25519, private key 0600 in the state
 * directory) that certifies every session container's host key (docs/admin/gateway.md).
 */
export interface HostIdentity {
  /** The CA's public key line; the CA is made on first use. */
  caPublicKey(): Promise<string>;
  /** A fresh host key for one session and its certificate, valid until `validBefore`. */
  issue(request: {sessionId: string; principals: string[]; validBefore: Date}): Promise<HostCredentials>;
  /** A new certificate for a host key already issued (a session extended). */
  renew(request: {hostPublicKey: string; principals: string[]; validBefore: Date}): Promise<string>;
}

export interface HostCredentials {
  privateKey: string;
  publicKey: string;
  certificate: string;
}
