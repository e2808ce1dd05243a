import * as client from 'openid-client';

import {SignInRefused, type AuthorizationRequest, type OpenIdProvider} from '../open-id-provider.js';

export interface OpenIdClientSettings {
  issuer: string;
  clientId: string;
  /** The client secret (client_secret_basic); undefined: a public client (PKCE only). */
  clientSecret?: string;
}

/** Why an openid-client error refuses the answer, in sandman's words. */
function refusalOf(error: unknown, step: 'discovery' | 'callback' | 'userinfo'): SignInRefused {
  if (error instanceof client.AuthorizationResponseError)
    return new SignInRefused(
      'provider',
      error.error_description ? `${error.error} (${error.error_description})` : error.error,
    );
  if (error instanceof client.ResponseBodyError) {
    const words = error.error_description ? `${error.error} (${error.error_description})` : error.error;
    return new SignInRefused(step === 'userinfo' ? 'token' : 'code', words);
  }
  if (error instanceof client.ClientError) {
    const detail = error.cause instanceof Error ? error.cause.message : error.message;
    const claim = (error.cause as {cause?: {claim?: unknown}} | undefined)?.cause?.claim;
    if (claim === 'nonce') return new SignInRefused('nonce', detail);
    if (/"state"/.test(detail)) return new SignInRefused('state', detail);
    if (step === 'discovery') return new SignInRefused('unreachable', detail);
    return new SignInRefused('token', detail);
  }
  // fetch() could not reach it (refused, no route, name unknown, TLS).
  if (error instanceof TypeError)
    return new SignInRefused('unreachable', (error.cause as Error | undefined)?.message ?? error.message);
  return new SignInRefused(step === 'discovery' ? 'unreachable' : 'token', (error as Error).message);
}

/**
 * The site's OpenID provider through openid-client (panva): discovery from the issuer's
 * `.well-known/openid-configuration`, the authorization URL with S256 PKCE, state and nonce, and
 * the callback's checks (state, `iss`, the code at the token endpoint, the ID token's signature
 * against the provider's keys, issuer, audience, expiry and nonce), then userinfo.
 */
export class OpenIdClientProvider implements OpenIdProvider {
  #configuration: Promise<client.Configuration> | undefined;

  constructor(private readonly settings: OpenIdClientSettings) {}

  #discover(): Promise<client.Configuration> {
    const {issuer, clientId, clientSecret} = this.settings;
    const url = new URL(issuer);
    // The settings allow http only for a provider on this host's loopback (oidc-settings.ts).
    const options = url.protocol === 'http:' ? {execute: [client.allowInsecureRequests]} : undefined;
    this.#configuration ??= client
      .discovery(
        url,
        clientId,
        undefined,
        clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret),
        options,
      )
      .catch((error: unknown) => {
        this.#configuration = undefined;
        throw refusalOf(error, 'discovery');
      });
    return this.#configuration;
  }

  async begin(request: {redirectUri: string; scopes: readonly string[]}): Promise<AuthorizationRequest> {
    const configuration = await this.#discover();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: request.redirectUri,
      scope: request.scopes.join(' '),
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return {url: url.href, state, nonce, verifier};
  }

  async finish(
    callbackUrl: URL,
    expected: {state: string; nonce: string; verifier: string},
  ): Promise<Record<string, unknown>> {
    const configuration = await this.#discover();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
        pkceCodeVerifier: expected.verifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw refusalOf(error, 'callback');
    }
    const idToken = tokens.claims()!;
    // Providers put profile claims in the ID token, at the userinfo endpoint, or both.
    if (!configuration.serverMetadata().userinfo_endpoint) return {...idToken};
    try {
      const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
      return {...idToken, ...userinfo};
    } catch (error) {
      throw refusalOf(error, 'userinfo');
    }
  }
}
