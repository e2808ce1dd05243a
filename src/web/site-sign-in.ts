import type {AuditEntry} from '../audit/audit-log.js';
import type {Config} from '../config/config.js';
import {invalidInput, isSandmanError} from '../core/errors.js';
import type {StateStore} from '../state/state-store.js';
import {signInDecision, type ClaimRules} from './oidc-claims.js';
import {SignInRefused, type OpenIdProvider, type SignInFailure} from './open-id-provider.js';
import type {Grant, WebAccess} from './web-access.js';

/** How long a browser has between "Sign in with …" and the provider's answer. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

/** Where the provider sends the browser back to: the redirect URI the site registers. */
export const CALLBACK_PATH = '/oidc/callback';

export interface SiteSignInDeps {
  provider: OpenIdProvider;
  access: WebAccess;
  store: Pick<StateStore, 'read'>;
  config: ClaimRules & Pick<Config, 'oidcScopes' | 'apiLoginTtl' | 'apiPublicUrl'>;
  /** Registers `user` in `group` on her first sign-in (oidcAutoRegister), as `actor`. */
  register(user: string, group: string | null, actor: string): Promise<void>;
  /** Writes an audit line as `actor`. */
  audit(actor: string, entry: AuditEntry): Promise<void>;
}

export type SignInOutcome =
  {grant: Grant; cookie: string; expiresAt: Date; actor: string} | {refused: string; status: number};

/** The audit actor of a login made by a sign-in (as `web:user:USER:ADDR` is a login link's). */
export function signedInActor(grant: Grant, source: string): string {
  if (grant.kind === 'admin') return `web:oidc-admin:${grant.user ?? '?'}:${source}`;
  if (grant.kind === 'user') return `web:oidc:${grant.user}:${source}`;
  return `web:oidc:${source}`;
}

const WORDS: Record<SignInFailure, string> = {
  provider: 'The sign-in provider refused the sign-in',
  state:
    'This answer does not belong to the sign-in this browser started (its state does not match): nothing was signed in',
  nonce:
    'The identity token was not made for the sign-in this browser started (its nonce does not match): nothing was signed in',
  code: 'The provider refused the sign-in code (expired, already used, or not for this site)',
  token: "The provider's identity token failed its checks",
  unreachable: 'The sign-in provider did not answer',
};

/**
 * Site sign-in with OpenID Connect (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"): "Sign in with …"
 * sends the browser to the provider with a fresh state, nonce and PKCE challenge, kept in the
 * web-access store under a short-lived cookie of that browser's only (no daemon: the callback may
 * reach another API process); the callback takes them back once, lets the provider check the code
 * and checks the ID token, then gives the same login cookie a login link gives, scoped to that
 * user, or the admin's for oidcAdminGroup. Anything else is refused with words and no login.
 */
export class SiteSignIn {
  constructor(private readonly deps: SiteSignInDeps) {}

  #redirectUri(): string {
    const {apiPublicUrl} = this.deps.config;
    if (!apiPublicUrl)
      throw invalidInput(
        'site sign-in needs apiPublicUrl (the redirect URI registered at the provider is {apiPublicUrl}/oidc/callback)',
      );
    return `${apiPublicUrl}${CALLBACK_PATH}`;
  }

  /** A new sign-in: the provider's URL for the browser, and the cookie that binds the answer to it. */
  async begin(): Promise<{url: string; cookie: string; expiresAt: Date}> {
    const request = await this.deps.provider.begin({
      redirectUri: this.#redirectUri(),
      scopes: this.deps.config.oidcScopes,
    });
    const {url, ...secrets} = request;
    const {cookie, expiresAt} = await this.deps.access.beginSignIn(secrets, SIGN_IN_TTL_MS);
    return {url, cookie, expiresAt};
  }

  /** The provider's answer (the callback's query) in the browser holding `cookie`, from `source`. */
  async finish(query: URLSearchParams, cookie: string | undefined, source: string): Promise<SignInOutcome> {
    const refuse = async (refused: string, status: number, user?: string) => {
      await this.deps.audit(user ? `web:oidc:${user}:${source}` : `web:oidc:${source}`, {
        action: 'web-sign-in',
        session: null,
        user: user ?? null,
        result: 'failed',
        reason: refused,
        source,
      });
      return {refused, status};
    };
    const callback = new URL(`${this.#redirectUri()}?${query.toString()}`);
    // Taken once: a replayed answer, or one reaching a browser that did not start it, finds nothing.
    const pending = await this.deps.access.takeSignIn(cookie);
    if (!pending)
      return refuse(
        `This sign-in has expired, was already used, or was started in another browser (or at another address than ${this.deps.config.apiPublicUrl}): nothing was signed in. Sign in again.`,
        403,
      );
    if (query.get('state') !== pending.state) return refuse(WORDS.state, 403);
    let claims: Record<string, unknown>;
    try {
      claims = await this.deps.provider.finish(callback, pending);
    } catch (error) {
      if (!(error instanceof SignInRefused)) throw error;
      const status = error.failure === 'unreachable' ? 502 : 403;
      return refuse(`${WORDS[error.failure]}: ${error.message}`, status);
    }
    const state = await this.deps.store.read();
    const decision = signInDecision(claims, this.deps.config, (user) => Boolean(state.users[user]?.added_at));
    if ('refused' in decision) return refuse(decision.refused, 403, decision.user);
    const actor = signedInActor(decision.grant, source);
    if ('register' in decision) {
      try {
        await this.deps.register(decision.user, decision.register.group, actor);
      } catch (error) {
        if (!isSandmanError(error)) throw error;
        return refuse(`You could not be registered: ${error.message}`, 403, decision.user);
      }
    }
    const {cookie: login, expiresAt} = await this.deps.access.login(
      decision.grant,
      this.deps.config.apiLoginTtl,
    );
    await this.deps.audit(actor, {
      action: 'web-sign-in',
      session: null,
      user: decision.user,
      result: 'ok',
      source,
    });
    return {grant: decision.grant, cookie: login, expiresAt, actor};
  }
}
