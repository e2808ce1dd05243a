import type {KeyPair} from '../ssh/ssh-keys.js';

/**
 * The SSH gateway's two keys (docs/admin/gateway.md "The SSH gateway"), each made once on this host: the host key
 * users' clients see (certified by the host CA at every connection, so `sandman known-hosts`
 * covers it), and the relay key the gateway logs in to session containers with. Every session's
 * authorized_keys carries the relay key's public half, accepted only from the gateway's address.
 */
export interface GatewayKeys {
  hostKey(): Promise<KeyPair>;
  relayKey(): Promise<KeyPair>;
}

/** The authorized_keys line that lets the gateway in, from its own addresses only. */
export function relayAuthorizedKey(relayPublicKey: string, fromAddresses: readonly string[]): string {
  const key = relayPublicKey.trim().split(/\s+/).slice(0, 2).join(' ');
  // No address known (an engine that reports no gateway): the key is not installed at all.
  if (fromAddresses.length === 0) return '';
  return `from="${fromAddresses.join(',')}" ${key} sandman-gateway`;
}
