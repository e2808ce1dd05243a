import {createHash, randomBytes} from 'node:crypto';

import type {Clock} from '../core/clock.js';

/**
 * What a browser's cookie lets it do: everything an admin may, one session's terminal, or what
 * one user may do with her own sessions (a user login, docs/admin/console-and-sign-in.md "User logins"). `via: 'oidc'`: the
 * browser signed in at the site's OpenID provider as `user` (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)").
 */
export type Grant =
  | {kind: 'admin'; user?: string; via?: 'oidc'}
  | {kind: 'terminal'; session: string}
  | {kind: 'user'; user: string; via?: 'oidc'};

/** A sign-in at the site's OpenID provider under way: what its answer must match, used once. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  /** The PKCE code verifier. */
  verifier: string;
  expires_at: string;
}

/** Logins and links by the SHA-256 of their secret: the file never holds a usable cookie or link. */
export interface WebAccessData {
  logins: Record<string, {grant: Grant; expires_at: string}>;
  links: Record<string, WebLink>;
  /** Sign-ins under way, by the SHA-256 of the browser's sign-in cookie. */
  sign_ins?: Record<string, PendingSignIn>;
}

/** A one-time link: to one session's terminal (`session`), or a user's login (`user`). */
export type WebLink = ({session: string; user?: undefined} | {user: string; session?: undefined}) & {
  expires_at: string;
  used_at: string | null;
  made_by: string;
};

/** Where logins and links are kept across API processes (the API exits when idle). */
export interface WebAccessStore {
  read(): Promise<WebAccessData>;
  /** Changes the data under a lock and writes it; returns what `change` returns. */
  update<T>(change: (data: WebAccessData) => T): Promise<T>;
}

export type LinkRefusal = 'unknown' | 'used' | 'expired';

export const emptyWebAccess = (): WebAccessData => ({logins: {}, links: {}});

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
const newSecret = () => randomBytes(32).toString('base64url');

/**
 * Browser logins (a cookie per login) and one-time links (docs/admin/console-and-sign-in.md "In the browser"). A terminal
 * link works once, until its own expiry or its session's end, whichever is first; using it gives a
 * login for that one session's terminal. A user's login link works once, until its expiry, and
 * gives a user login. Expired entries are dropped at each change.
 */
export class WebAccess {
  constructor(
    private readonly store: WebAccessStore,
    private readonly clock: Clock,
  ) {}

  /** A new login: the cookie's value and when it ends. */
  async login(grant: Grant, ttlMs: number): Promise<{cookie: string; expiresAt: Date}> {
    const cookie = newSecret();
    const expiresAt = new Date(this.clock.now().getTime() + ttlMs);
    await this.store.update((data) => {
      this.#prune(data);
      data.logins[digest(cookie)] = {grant, expires_at: expiresAt.toISOString()};
    });
    return {cookie, expiresAt};
  }

  /** The grant of a cookie; undefined when it is unknown, tampered with or expired. */
  async check(cookie: string | undefined): Promise<Grant | undefined> {
    if (!cookie) return undefined;
    const login = (await this.store.read()).logins[digest(cookie)];
    if (!login || Date.parse(login.expires_at) <= this.clock.now().getTime()) return undefined;
    return login.grant;
  }

  async logout(cookie: string | undefined): Promise<void> {
    if (!cookie) return;
    await this.store.update((data) => {
      delete data.logins[digest(cookie)];
      this.#prune(data);
    });
  }

  /** A one-time link for a session's terminal: its secret and when it stops working. */
  async makeLink(
    session: {id: string; expires_at: string},
    ttlMs: number,
    madeBy: string,
  ): Promise<{token: string; expiresAt: Date}> {
    const until = Math.min(this.clock.now().getTime() + ttlMs, Date.parse(session.expires_at));
    return this.#addLink({session: session.id}, new Date(until), madeBy);
  }

  /** A one-time link that logs its opener in as `user` (`user login-link`): its secret and end. */
  async makeUserLink(user: string, ttlMs: number, madeBy: string): Promise<{token: string; expiresAt: Date}> {
    return this.#addLink({user}, new Date(this.clock.now().getTime() + ttlMs), madeBy);
  }

  async #addLink(
    target: {session: string} | {user: string},
    expiresAt: Date,
    madeBy: string,
  ): Promise<{token: string; expiresAt: Date}> {
    const token = newSecret();
    await this.store.update((data) => {
      this.#prune(data);
      data.links[digest(token)] = {
        ...target,
        expires_at: expiresAt.toISOString(),
        used_at: null,
        made_by: madeBy,
      };
    });
    return {token, expiresAt};
  }

  /**
   * Uses a link: once only, and only before it expires. A terminal link's login is for that
   * session's terminal, for `loginTtlMs` or until the session ends (`sessionEnds`, ISO time); a
   * user's login link gives a user login for `loginTtlMs`, while she is registered (`userKnown`).
   */
  async redeem(
    token: string,
    sessionEnds: (session: string) => string | undefined,
    loginTtlMs: number,
    userKnown: (user: string) => boolean = () => false,
  ): Promise<{grant: Grant; cookie: string; expiresAt: Date} | {refused: LinkRefusal}> {
    const now = this.clock.now().getTime();
    const cookie = newSecret();
    return this.store.update((data) => {
      const link = data.links[digest(token)];
      if (!link) return {refused: 'unknown' as const};
      if (link.used_at) return {refused: 'used' as const};
      const ends =
        link.user !== undefined
          ? userKnown(link.user)
            ? Infinity
            : undefined
          : Date.parse(sessionEnds(link.session) ?? '');
      if (Date.parse(link.expires_at) <= now || ends === undefined || Number.isNaN(ends))
        return {refused: 'expired' as const};
      link.used_at = new Date(now).toISOString();
      const expiresAt = new Date(Math.min(now + loginTtlMs, ends));
      const grant: Grant =
        link.user !== undefined ? {kind: 'user', user: link.user} : {kind: 'terminal', session: link.session};
      data.logins[digest(cookie)] = {grant, expires_at: expiresAt.toISOString()};
      this.#prune(data);
      return {grant, cookie, expiresAt};
    });
  }

  /** A sign-in at the OpenID provider begins: the browser's cookie for it, kept `ttlMs`. */
  async beginSignIn(
    pending: Omit<PendingSignIn, 'expires_at'>,
    ttlMs: number,
  ): Promise<{cookie: string; expiresAt: Date}> {
    const cookie = newSecret();
    const expiresAt = new Date(this.clock.now().getTime() + ttlMs);
    await this.store.update((data) => {
      this.#prune(data);
      (data.sign_ins ??= {})[digest(cookie)] = {...pending, expires_at: expiresAt.toISOString()};
    });
    return {cookie, expiresAt};
  }

  /** The sign-in this cookie began, taken away (once only); undefined when unknown or expired. */
  async takeSignIn(cookie: string | undefined): Promise<PendingSignIn | undefined> {
    if (!cookie) return undefined;
    return this.store.update((data) => {
      const pending = data.sign_ins?.[digest(cookie)];
      if (pending) delete data.sign_ins![digest(cookie)];
      this.#prune(data);
      if (!pending || Date.parse(pending.expires_at) <= this.clock.now().getTime()) return undefined;
      return pending;
    });
  }

  /** Expired logins go; a link is kept a day past its expiry, so a late second use says "used". */
  #prune(data: WebAccessData): void {
    const now = this.clock.now().getTime();
    for (const [key, login] of Object.entries(data.logins))
      if (Date.parse(login.expires_at) <= now) delete data.logins[key];
    for (const [key, link] of Object.entries(data.links))
      if (Date.parse(link.expires_at) + 86_400_000 <= now) delete data.links[key];
    for (const [key, pending] of Object.entries(data.sign_ins ?? {}))
      if (Date.parse(pending.expires_at) <= now) delete data.sign_ins![key];
  }
}
