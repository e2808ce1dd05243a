import type {Duplex} from 'node:stream';

import type {AuditLog} from '../audit/audit-log.js';
import type {Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import type {SessionEndpoints} from '../runtime/session-runtime.js';
import type {HostIdentity} from '../ssh/host-identity.js';
import {localAddress} from '../session/ssh-client.js';
import type {SessionRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import {GatewayAuth} from './gateway-auth.js';
import {relayKeyMissing, relayTarget} from './relay-target.js';
import type {GatewayKeys} from './gateway-keys.js';
import type {GatewayOutcome, GatewayServer, UpstreamTarget} from './gateway-server.js';

/** How long the gateway's host certificate is valid: it is made anew for every connection. */
const CERTIFICATE_DAYS = 1;

export interface GatewayDeps {
  config: Config;
  store: Pick<StateStore, 'read'>;
  /** Where sessions' sshd answers (docs/admin/gateway.md "The SSH gateway"). */
  endpoints: SessionEndpoints;
  keys: GatewayKeys;
  hostIdentity: HostIdentity;
  sshHost: () => Promise<string>;
  server: GatewayServer;
  audit: AuditLog;
  clock: Clock;
  /** The user's running session, started when they have none (sessionForUser). */
  sessionFor(user: string, say: (line: string) => void): Promise<SessionRecord>;
}

/**
 * `sandman gateway`: one SSH connection, from login to the relay's end (docs/admin/gateway.md "The SSH gateway").
 * Every login, accepted or refused, is an audit line with the source address.
 */
export async function runGateway(deps: GatewayDeps, socket: Duplex, source: string): Promise<GatewayOutcome> {
  const {config} = deps;
  const [state, hostKey, relayKey, sshHost] = await Promise.all([
    deps.store.read(),
    deps.keys.hostKey(),
    deps.keys.relayKey(),
    deps.sshHost(),
  ]);
  const certificate = await deps.hostIdentity.renew({
    hostPublicKey: hostKey.publicKey,
    principals: [...new Set([sshHost, localAddress(config.bindAddress)])],
    validBefore: new Date(deps.clock.now().getTime() + CERTIFICATE_DAYS * 86_400_000),
  });
  const auth = new GatewayAuth(state);
  let starting: Promise<unknown> | undefined;
  const outcome = await deps.server.serve({
    socket,
    hostKey: {privateKey: hostKey.privateKey, certificate},
    loginTimeoutMs: config.gatewayLoginTimeout,
    authenticate: (attempt) => auth.attempt(attempt),
    refuse: () => auth.refused(),
    upstream: (user, say) => {
      const target = (async (): Promise<UpstreamTarget> => {
        await deps.audit.record({action: 'gateway-login', session: null, user, result: 'ok', source});
        const session = await deps.sessionFor(user, say);
        // docs/admin/upgrades-and-backups.md "Upgrading": a session from before the gateway does not carry its key yet.
        // Only a session reached on the sessions network checks the relay key's source address.
        if (session.gateway_key === undefined && deps.endpoints.onNetwork) throw relayKeyMissing(session);
        return relayTarget(deps, session, relayKey.privateKey);
      })();
      starting = target.catch(() => undefined);
      return target;
    },
  });
  if (!outcome.accepted) {
    const why =
      outcome.ended === 'timeout'
        ? `no login within ${config.gatewayLoginTimeout / 1000}s`
        : `refused (publickey) after ${outcome.attempts} attempt(s)`;
    await deps.audit.record({
      action: 'gateway-login',
      session: null,
      user: outcome.users[0] ?? null,
      result: 'failed',
      reason: outcome.users.length > 1 ? `${why}; names tried: ${outcome.users.join(', ')}` : why,
      source,
    });
  }
  // A session being started when the user hung up is finished, not cut off half-made.
  await starting;
  return outcome;
}
