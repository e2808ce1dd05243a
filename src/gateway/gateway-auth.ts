import {timingSafeEqual} from 'node:crypto';

import {utils, type ParsedKey} from 'ssh2';

import type {StateData} from '../state/state-data.js';

/** Attempts one connection may make before the gateway hangs up (OpenSSH's MaxAuthTries). */
export const MAX_AUTH_ATTEMPTS = 6;

/**
 * A public key nobody holds the private half of: an unknown user's attempts are compared with it,
 * so they cost what a registered user's do (no user enumeration by timing).
 */
const DECOY_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEdpIbB+DaybJ+gFNmlbGQDIwtGJDfiYrUNHvzrcONGj';

/** One publickey request, as the client sent it. */
export interface KeyAttempt {
  user: string;
  /** The public key blob offered (SSH wire format). */
  key: Buffer;
  /** Absent when the client only asks whether the key would do. */
  signature?: Buffer;
  /** The data the signature is over. */
  signed?: Buffer;
  hashAlgo?: string;
}

/**
 * - `key-ok`: the key would do, the client may sign with it;
 * - `accepted`: signed by a registered key of that user: logged in;
 * - `refused`: the same answer for an unknown user, a wrong key and a bad signature;
 * - `disconnect`: too many attempts.
 */
export type AuthDecision = 'key-ok' | 'accepted' | 'refused' | 'disconnect';

/**
 * The gateway's login rule (docs/admin/gateway.md "The SSH gateway"): the SSH user name is the sandman user, and
 * the key must be one of that user's registered keys (`sandman user key add`), or one their
 * current session accepts (a key sandman made for it, or `--ssh-key`).
 */
export class GatewayAuth {
  #failures = 0;
  readonly #parsed = new Map<string, ParsedKey[]>();
  readonly #lines: ReadonlyMap<string, string[]>;

  constructor(state: Pick<StateData, 'users' | 'sessions'>) {
    const lines = new Map<string, string[]>();
    const add = (user: string, keys: string[]) => lines.set(user, [...(lines.get(user) ?? []), ...keys]);
    for (const [user, record] of Object.entries(state.users))
      add(
        user,
        (record.keys ?? []).map((key) => key.line),
      );
    for (const session of state.sessions)
      add(
        session.user,
        (session.authorized_keys ?? '').split('\n').filter((line) => line.trim() !== ''),
      );
    this.#lines = lines;
  }

  get failures(): number {
    return this.#failures;
  }

  attempt(attempt: KeyAttempt): AuthDecision {
    const known = (this.#lines.get(attempt.user)?.length ?? 0) > 0;
    const candidates = this.#keysOf(known ? attempt.user : undefined);
    // Every candidate is compared (no early exit), for known and unknown users alike.
    let match: ParsedKey | undefined;
    for (const candidate of candidates) {
      const blob = candidate.getPublicSSH();
      if (blob.length === attempt.key.length && timingSafeEqual(blob, attempt.key)) match ??= candidate;
    }
    if (known && match) {
      if (!attempt.signature || !attempt.signed) return 'key-ok';
      if (match.verify(attempt.signed, attempt.signature, attempt.hashAlgo) === true) return 'accepted';
    }
    return this.refused();
  }

  /** Any other method (password, keyboard-interactive) counts as a failed attempt. */
  refused(): AuthDecision {
    this.#failures++;
    return this.#failures >= MAX_AUTH_ATTEMPTS ? 'disconnect' : 'refused';
  }

  #keysOf(user: string | undefined): ParsedKey[] {
    const key = user ?? '';
    let keys = this.#parsed.get(key);
    if (!keys) {
      const lines = user ? (this.#lines.get(user) ?? []) : [DECOY_KEY];
      keys = lines.flatMap((line) => {
        const parsed = utils.parseKey(line);
        const first = Array.isArray(parsed) ? parsed[0] : parsed;
        return first && !(first instanceof Error) ? [first] : [];
      });
      this.#parsed.set(key, keys);
    }
    return keys;
  }
}
