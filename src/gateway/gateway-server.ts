import type {Duplex} from 'node:stream';

import type {AuthDecision, KeyAttempt} from './gateway-auth.js';

/** Where the gateway relays a logged-in user: their session container's sshd. */
export interface UpstreamTarget {
  host: string;
  port: number;
  username: string;
  /** The gateway's relay key (OpenSSH private key). */
  privateKey: string;
  /** The host key the session's sshd must present (its certified key); undefined: not checked. */
  hostKey?: string;
}

/** One accepted TCP connection, and what the gateway does with it. */
export interface GatewayConnection {
  socket: Duplex;
  /** The gateway's host key and its certificate from the host CA. */
  hostKey: {privateKey: string; certificate: string};
  /** Time to log in before the connection is dropped. */
  loginTimeoutMs: number;
  authenticate(attempt: KeyAttempt): AuthDecision;
  /** A method other than publickey. */
  refuse(): AuthDecision;
  /** After login: the user's session, started when needed; `say` reaches the user's terminal. */
  upstream(user: string, say: (line: string) => void): Promise<UpstreamTarget>;
}

export interface GatewayOutcome {
  /** The user names the client tried, in order. */
  users: string[];
  attempts: number;
  /** The user who logged in; undefined when nobody did. */
  accepted: string | undefined;
  /** closed: by either side; timeout: no login in time; attempts: too many tries. */
  ended: 'closed' | 'timeout' | 'attempts';
}

/** An SSH server for one connection (src/gateway/adapters/ssh2-gateway.ts). */
export interface GatewayServer {
  serve(connection: GatewayConnection): Promise<GatewayOutcome>;
}
