import {SandmanError} from '../core/errors.js';
import {relayEndpoint, type SessionEndpoints} from '../runtime/session-runtime.js';
import type {SessionRecord} from '../state/state-data.js';
import type {UpstreamTarget} from './gateway-server.js';

/**
 * How sandman itself logs in to a session's sshd (the SSH gateway, the browser terminal): with
 * the relay key the container accepts only from the sessions network's gateway address, checking
 * the host key sandman certified. The sshd answers on the container's own address, or (Swarm
 * mode) its node's published port.
 */
export async function relayTarget(
  deps: {endpoints: SessionEndpoints},
  session: SessionRecord,
  relayPrivateKey: string,
): Promise<UpstreamTarget> {
  return {
    ...(await relayEndpoint(deps.endpoints, session)),
    username: session.user,
    privateKey: relayPrivateKey,
    hostKey: session.host_public_key ?? undefined,
  };
}

/**
 * A session an earlier sandman made (docs/admin/upgrades-and-backups.md "Upgrading") whose authorized_keys lack the relay key:
 * extend or a stop and start adds it (SessionContext.withGatewayKey).
 */
export function relayKeyMissing(session: Pick<SessionRecord, 'id'>): SandmanError {
  return new SandmanError(
    'FAILURE',
    `session ${session.id} was made before sandman's relay key (the SSH gateway's and "sandman ssh"'s) and ` +
      `does not accept it yet: "sandman session extend ${session.id} --ttl 1m" (or a stop and start) gives it the key`,
  );
}
