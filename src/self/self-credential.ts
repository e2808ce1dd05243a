/**
 * The per-session credential of the in-session `sandman` (docs/admin/sessions.md "The in-session command"): a random
 * secret only the session's user can read (in her session files, mode 0400), whose SHA-256 alone
 * is in the state. It is made at create and start, dies at stop and removal (its hash goes), and
 * is good only until the session's expiry (so extend renews it).
 */
import {createHash, randomBytes, timingSafeEqual} from 'node:crypto';

import type {SessionRecord} from '../state/state-data.js';

/** The file names in the session files directory (images/workspace/sandman-client.sh reads them). */
export const SELF_FILES = {token: 'self-token', url: 'self-url'} as const;

export function newSelfSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function selfTokenHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** The URL the client posts to: the listener on the sessions network's gateway, for this session. */
export function selfUrl(gateway: string, port: number, sessionId: string): string {
  const host = gateway.includes(':') ? `[${gateway}]` : gateway;
  return `http://${host}:${port}/s/${sessionId}`;
}

/**
 * The session a secret belongs to, when it is alive: running, not past its expiry, its hash the
 * one recorded. Undefined for anything else (forged, stopped, removed, expired).
 */
export function sessionOfSecret(
  sessions: readonly SessionRecord[],
  secret: string,
  now: number,
): SessionRecord | undefined {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(secret)) return undefined;
  const wanted = Buffer.from(selfTokenHash(secret), 'hex');
  return sessions.find(
    (session) =>
      session.status === 'running' &&
      typeof session.self_token_hash === 'string' &&
      session.self_token_hash.length === 64 &&
      timingSafeEqual(Buffer.from(session.self_token_hash, 'hex'), wanted) &&
      Date.parse(session.expires_at) > now,
  );
}
