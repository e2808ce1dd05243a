import type {AuditLog} from '../audit/audit-log.js';
import type {Config} from '../config/config.js';
import type {SessionEndpoints} from '../runtime/session-runtime.js';
import {conflict, notFound} from '../core/errors.js';
import type {GatewayKeys} from '../gateway/gateway-keys.js';
import type {UpstreamTarget} from '../gateway/gateway-server.js';
import {relayTarget} from '../gateway/relay-target.js';
import type {StateStore} from '../state/state-store.js';

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** A login shell on a pty in a session, as the browser terminal drives it. */
export interface TerminalStream {
  write(data: string): void;
  resize(size: TerminalSize): void;
  onData(listener: (data: Buffer) => void): void;
  /** Once, when the shell or the connection ends; `why` in words. */
  onClose(listener: (why: string) => void): void;
  close(): void;
}

/** Opens a shell over SSH (src/web/adapters/ssh2-terminal.ts). */
export interface TerminalClient {
  open(target: UpstreamTarget, size: TerminalSize): Promise<TerminalStream>;
}

export interface TerminalServiceDeps {
  config: Config;
  store: Pick<StateStore, 'read'>;
  endpoints: SessionEndpoints;
  keys: Pick<GatewayKeys, 'relayKey'>;
  audit: AuditLog;
  client: TerminalClient;
}

/**
 * The browser terminal (docs/admin/console-and-sign-in.md "In the browser"): a shell in a running session, reached the way
 * the SSH gateway reaches it (relay key, certified host key); no private key goes to the browser.
 * Every terminal opened is an audit line with who opened it (the actor) and from where.
 */
export class TerminalService {
  constructor(private readonly deps: TerminalServiceDeps) {}

  async open(sessionId: string, size: TerminalSize, who: {source: string}): Promise<TerminalStream> {
    const state = await this.deps.store.read();
    const session = state.sessions.find((candidate) => candidate.id === sessionId);
    if (!session) throw notFound(`session ${sessionId} not found`);
    const record = async (result: 'ok' | 'failed', reason?: string) =>
      this.deps.audit.record({
        action: 'terminal-open',
        session: session.id,
        user: session.user,
        result,
        source: who.source,
        ...(reason ? {reason} : {}),
      });
    try {
      if (session.status !== 'running')
        throw conflict(
          `session ${session.id} is ${session.status}: start it first ("sandman session start ${session.id}")`,
        );
      const target = await relayTarget(this.deps, session, (await this.deps.keys.relayKey()).privateKey);
      const stream = await this.deps.client.open(target, size);
      await record('ok');
      return stream;
    } catch (error) {
      await record('failed', (error as Error).message);
      throw error;
    }
  }
}
