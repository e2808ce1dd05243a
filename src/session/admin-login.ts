import {relayKeyMissing} from '../gateway/relay-target.js';
import type {SessionEndpoints} from '../runtime/session-runtime.js';
import type {SessionRecord} from '../state/state-data.js';

/** Where and with which private key file `sandman ssh` logs in. */
export interface AdminLogin {
  identityFile: string;
  host: string;
  port: number;
}

/**
 * How the admin's `sandman ssh` logs in, whatever keys the user has (docs/admin/gateway.md): with
 * sandman's relay key (`<stateDir>/gateway/relay_ed25519`, root only, made on first need), which
 * every session accepts from this host's address on the sessions network, at the container's own
 * address, as the SSH gateway does. Without it (Swarm mode, an engine that reports no network
 * gateway) a session made with a generated key is reached with that key at its published port; a
 * session from before the relay key is told how to get it.
 */
export async function adminLogin(
  deps: {endpoints: SessionEndpoints; relayKeyFile: () => Promise<string>},
  session: SessionRecord,
): Promise<AdminLogin> {
  const {onNetwork} = deps.endpoints;
  if (session.gateway_key && onNetwork) {
    const [identityFile, endpoint] = await Promise.all([deps.relayKeyFile(), onNetwork(session)]);
    return {identityFile, ...endpoint};
  }
  if (!session.ssh_private_key_path) throw relayKeyMissing(session);
  return {identityFile: session.ssh_private_key_path, ...deps.endpoints.published(session)};
}

/**
 * OpenSSH client arguments for reaching a session from the host itself. Each container makes a
 * fresh host key, so host-key checking against known_hosts would only ever warn about a changed key
 * on a reused port or address.
 */
export function sshClientArgs(
  session: Pick<SessionRecord, 'user'>,
  login: AdminLogin,
  options: {tty: boolean},
): string[] {
  const settings = [
    'IdentitiesOnly=yes',
    'StrictHostKeyChecking=no',
    'UserKnownHostsFile=/dev/null',
    'LogLevel=ERROR',
  ];
  return [
    '-i',
    login.identityFile,
    '-p',
    String(login.port),
    ...settings.flatMap((setting) => ['-o', setting]),
    ...(options.tty ? ['-t'] : []),
    `${session.user}@${login.host}`,
  ];
}
