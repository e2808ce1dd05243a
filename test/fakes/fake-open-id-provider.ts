import {
  SignInRefused,
  type AuthorizationRequest,
  type OpenIdProvider,
} from '../../src/web/open-id-provider.js';

/**
 * An OpenID provider in memory: each `begin` makes numbered secrets; `finish` checks the state and
 * the code it issued, and answers the claims the test set for that code (or a refusal it set).
 */
export class FakeOpenIdProvider implements OpenIdProvider {
  readonly requests: Array<AuthorizationRequest & {redirectUri: string; scopes: readonly string[]}> = [];
  /** What the token endpoint answers for a code: claims, or a refusal. */
  readonly codes = new Map<string, Record<string, unknown> | SignInRefused>();
  readonly finished: Array<{
    callbackUrl: string;
    expected: {state: string; nonce: string; verifier: string};
  }> = [];

  async begin(request: {redirectUri: string; scopes: readonly string[]}): Promise<AuthorizationRequest> {
    const n = this.requests.length + 1;
    const made = {
      url: `https://login.example.edu/auth?state=state-${n}`,
      state: `state-${n}`,
      nonce: `nonce-${n}`,
      verifier: `verifier-${n}`,
    };
    this.requests.push({...made, ...request});
    return made;
  }

  async finish(
    callbackUrl: URL,
    expected: {state: string; nonce: string; verifier: string},
  ): Promise<Record<string, unknown>> {
    this.finished.push({callbackUrl: callbackUrl.href, expected});
    const error = callbackUrl.searchParams.get('error');
    if (error) throw new SignInRefused('provider', error);
    if (callbackUrl.searchParams.get('state') !== expected.state)
      throw new SignInRefused('state', 'unexpected "state" response parameter value');
    const answer = this.codes.get(callbackUrl.searchParams.get('code') ?? '');
    if (answer === undefined) throw new SignInRefused('code', 'invalid_grant (grant request is invalid)');
    if (answer instanceof SignInRefused) throw answer;
    return answer;
  }
}
