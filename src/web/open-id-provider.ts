/**
 * The site's OpenID Connect provider (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"), as the sign-in
 * uses it: the authorization code flow with PKCE, state and nonce. Implemented with openid-client
 * (src/web/adapters/openid-client-provider.ts), built in cli/services.ts.
 */
export interface OpenIdProvider {
  /**
   * A new authorization request: the provider's URL to send the browser to, and the fresh
   * secrets its answer must match (kept by sandman until the callback).
   */
  begin(request: {redirectUri: string; scopes: readonly string[]}): Promise<AuthorizationRequest>;
  /**
   * The signed-in person's claims (the ID token's, then the userinfo endpoint's) from the
   * provider's answer at `callbackUrl`, after checking its state, the code at the token endpoint
   * (with the PKCE verifier) and the ID token (signature, issuer, audience, expiry, nonce);
   * anything wrong throws SignInRefused.
   */
  finish(
    callbackUrl: URL,
    expected: {state: string; nonce: string; verifier: string},
  ): Promise<Record<string, unknown>>;
}

export interface AuthorizationRequest {
  url: string;
  state: string;
  nonce: string;
  verifier: string;
}

/**
 * Why the provider's answer was not taken: `provider` (it answered with an error, e.g. the person
 * declined), `state` (not the answer to this browser's request), `nonce` (an ID token not made for
 * this request), `code` (the token endpoint refused the code: expired, used, or not this client's),
 * `token` (an ID token that fails its checks), `unreachable` (no answer from the provider).
 */
export type SignInFailure = 'provider' | 'state' | 'nonce' | 'code' | 'token' | 'unreachable';

export class SignInRefused extends Error {
  constructor(
    readonly failure: SignInFailure,
    message: string,
  ) {
    super(message);
  }
}
