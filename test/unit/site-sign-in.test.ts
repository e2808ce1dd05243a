import SwaggerParser from '@apidevtools/swagger-parser';
import {describe, expect, it} from 'vitest';

import {OPENAPI} from '../../cli/openapi.js';
import {signInButton, signInName} from '../../cli/http/oidc-routes.js';
import type {AuditEntry} from '../../src/audit/audit-log.js';
import {loadConfig} from '../../src/config/config.js';
import {clientSecretProblem} from '../../src/web/client-secret-file.js';
import {invalidInput} from '../../src/core/errors.js';
import {emptyState} from '../../src/state/state-data.js';
import {claimValues, signInDecision, type ClaimRules} from '../../src/web/oidc-claims.js';
import {SignInRefused} from '../../src/web/open-id-provider.js';
import {SiteSignIn, signedInActor, SIGN_IN_TTL_MS} from '../../src/web/site-sign-in.js';
import {WebAccess} from '../../src/web/web-access.js';
import {FakeOpenIdProvider} from '../fakes/fake-open-id-provider.js';
import {InMemoryStateStore} from '../fakes/in-memory-state-store.js';
import {InMemoryWebAccessStore} from '../fakes/in-memory-web-access-store.js';

/** Site sign-in with OpenID Connect (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"). */

const START = Date.parse('2026-12-07T10:00:00Z');
const HOUR = 3_600_000;
const noFile = (file: string): string => {
  throw Object.assign(new Error(`ENOENT: ${file}`), {code: 'ENOENT'});
};

const RULES: ClaimRules = {
  oidcUserClaim: 'preferred_username',
  oidcGroupClaim: 'groups',
  oidcAdminGroup: 'gpu-admins',
  oidcAutoRegister: false,
  groups: {students: {}, staff: {}},
};

describe('who a signed-in person is to sandman', () => {
  const registered = (user: string) => user === 'alice';

  it('a registered user gets her own login; the admin group gives the admin; anyone else is refused', () => {
    expect(signInDecision({preferred_username: 'alice'}, RULES, registered)).toEqual({
      user: 'alice',
      grant: {kind: 'user', user: 'alice', via: 'oidc'},
    });
    expect(
      signInDecision({preferred_username: 'bob', groups: ['staff', 'gpu-admins']}, RULES, registered),
    ).toEqual({user: 'bob', grant: {kind: 'admin', user: 'bob', via: 'oidc'}});
    expect(signInDecision({preferred_username: 'carol'}, RULES, registered)).toEqual({
      user: 'carol',
      refused:
        'carol is not a sandman user on this host: ask the admin to register you ("sandman user add carol").',
    });
    // Without oidcAdminGroup set, no group makes an admin.
    expect(
      signInDecision(
        {preferred_username: 'alice', groups: ['gpu-admins']},
        {...RULES, oidcAdminGroup: undefined},
        registered,
      ),
    ).toMatchObject({grant: {kind: 'user'}});
  });

  it('auto-registers into the first of her groups that is configured, or none', () => {
    const rules = {...RULES, oidcAutoRegister: true};
    expect(
      signInDecision({preferred_username: 'carol', groups: ['physics', 'students']}, rules, registered),
    ).toEqual({
      user: 'carol',
      register: {group: 'students'},
      grant: {kind: 'user', user: 'carol', via: 'oidc'},
    });
    expect(signInDecision({preferred_username: 'carol', groups: 'staff'}, rules, registered)).toMatchObject({
      register: {group: 'staff'},
    });
    expect(
      signInDecision({preferred_username: 'carol', groups: ['toString']}, rules, registered),
    ).toMatchObject({register: {group: null}});
  });

  it('refuses a missing user claim and a name sandman cannot use', () => {
    expect(signInDecision({sub: '42'}, RULES, registered)).toEqual({
      refused: expect.stringContaining('no "preferred_username" claim (oidcUserClaim)'),
    });
    expect(signInDecision({preferred_username: 'Alice Smith'}, RULES, registered)).toEqual({
      refused: expect.stringContaining('"Alice Smith", which is not a user name sandman can use'),
    });
    expect(claimValues(['a', 3, 'b'])).toEqual(['a', 'b']);
    expect(claimValues(undefined)).toEqual([]);
  });

  it('names the actor of a signed-in login', () => {
    expect(signedInActor({kind: 'user', user: 'alice', via: 'oidc'}, '10.0.0.5')).toBe(
      'web:oidc:alice:10.0.0.5',
    );
    expect(signedInActor({kind: 'admin', user: 'bob', via: 'oidc'}, '10.0.0.5')).toBe(
      'web:oidc-admin:bob:10.0.0.5',
    );
  });
});

async function world(rules: Partial<ClaimRules> = {}) {
  const clock = {time: START, now: () => new Date(clock.time)};
  const store = new InMemoryStateStore();
  await store.update((data) =>
    Object.assign(data, {
      ...emptyState(),
      users: {alice: {uid: 20001, added_at: '2026-12-01T00:00:00Z', keys: []}},
    }),
  );
  const web = new InMemoryWebAccessStore();
  const access = new WebAccess(web, clock);
  const provider = new FakeOpenIdProvider();
  const audits: Array<{actor: string; entry: AuditEntry}> = [];
  const registered: Array<{user: string; group: string | null; actor: string}> = [];
  const signIn = new SiteSignIn({
    provider,
    access,
    store,
    config: {
      ...RULES,
      ...rules,
      oidcScopes: ['openid', 'profile', 'groups'],
      apiLoginTtl: 12 * HOUR,
      apiPublicUrl: 'https://gpu1.example.org:8443',
    },
    register: async (user, group, actor) => {
      if (user === 'root') throw invalidInput('"root" is an account every image has');
      registered.push({user, group, actor});
    },
    audit: async (actor, entry) => void audits.push({actor, entry}),
  });
  return {clock, web, access, provider, audits, registered, signIn};
}

/** The provider's answer for the nth sign-in: its state and a code. */
const answer = (n: number, code: string) => new URLSearchParams({code, state: `state-${n}`});

describe('a site sign-in', () => {
  it('asks the provider with the redirect URI and scopes, and keeps the secrets under a browser cookie only', async () => {
    const {provider, web, signIn} = await world();
    const begun = await signIn.begin();
    expect(begun.url).toBe('https://login.example.edu/auth?state=state-1');
    expect(begun.expiresAt.getTime()).toBe(START + SIGN_IN_TTL_MS);
    expect(provider.requests[0]).toMatchObject({
      redirectUri: 'https://gpu1.example.org:8443/oidc/callback',
      scopes: ['openid', 'profile', 'groups'],
    });
    const kept = Object.entries(web.data.sign_ins ?? {});
    expect(kept).toHaveLength(1);
    expect(kept[0]![1]).toEqual({
      state: 'state-1',
      nonce: 'nonce-1',
      verifier: 'verifier-1',
      expires_at: '2026-12-07T10:10:00.000Z',
    });
    expect(JSON.stringify(web.data)).not.toContain(begun.cookie);
  });

  it('signs a registered user in once: her login, scoped to her, with the checks passed to the provider', async () => {
    const {provider, access, audits, signIn} = await world();
    const begun = await signIn.begin();
    provider.codes.set('c1', {sub: 's-alice', preferred_username: 'alice'});
    const done = await signIn.finish(answer(1, 'c1'), begun.cookie, '10.0.0.5');
    if ('refused' in done) throw new Error(done.refused);
    expect(done.grant).toEqual({kind: 'user', user: 'alice', via: 'oidc'});
    expect(done.expiresAt.getTime()).toBe(START + 12 * HOUR);
    expect(await access.check(done.cookie)).toEqual(done.grant);
    expect(provider.finished[0]).toEqual({
      callbackUrl: 'https://gpu1.example.org:8443/oidc/callback?code=c1&state=state-1',
      expected: {state: 'state-1', nonce: 'nonce-1', verifier: 'verifier-1', expires_at: expect.any(String)},
    });
    expect(audits).toEqual([
      {
        actor: 'web:oidc:alice:10.0.0.5',
        entry: {action: 'web-sign-in', session: null, user: 'alice', result: 'ok', source: '10.0.0.5'},
      },
    ]);
    // The same answer again (a replay, the back button) finds nothing to finish.
    const again = await signIn.finish(answer(1, 'c1'), begun.cookie, '10.0.0.5');
    expect(again).toEqual({refused: expect.stringContaining('already used'), status: 403});
    expect(provider.finished).toHaveLength(1);
  });

  it('refuses without a login: another browser, a tampered state, an expired sign-in, the provider refusing', async () => {
    const {clock, provider, web, audits, signIn} = await world();
    provider.codes.set('c1', {preferred_username: 'alice'});
    const loginsNow = () => Object.keys(web.data.logins).length;

    const first = await signIn.begin();
    // No cookie, or another browser's: not this browser's sign-in.
    expect(await signIn.finish(answer(1, 'c1'), undefined, '10.0.0.9')).toMatchObject({status: 403});
    expect(await signIn.finish(answer(1, 'c1'), 'someone-elses', '10.0.0.9')).toMatchObject({status: 403});
    // A tampered state: refused before the provider is asked, and the sign-in is spent.
    const tampered = await signIn.finish(new URLSearchParams({code: 'c1', state: 'evil'}), first.cookie, 'a');
    expect(tampered).toEqual({refused: expect.stringContaining('state does not match'), status: 403});
    expect(await signIn.finish(answer(1, 'c1'), first.cookie, 'a')).toMatchObject({status: 403});
    expect(provider.finished).toHaveLength(0);

    const second = await signIn.begin();
    clock.time += SIGN_IN_TTL_MS + 1000;
    expect(await signIn.finish(answer(2, 'c1'), second.cookie, 'a')).toEqual({
      refused: expect.stringContaining('expired'),
      status: 403,
    });

    const third = await signIn.begin();
    provider.codes.set('c3', new SignInRefused('nonce', 'unexpected ID Token "nonce" claim value'));
    expect(await signIn.finish(answer(3, 'c3'), third.cookie, 'a')).toEqual({
      refused: expect.stringContaining('nonce does not match'),
      status: 403,
    });
    const fourth = await signIn.begin();
    expect(await signIn.finish(answer(4, 'used-code'), fourth.cookie, 'a')).toEqual({
      refused: expect.stringMatching(/refused the sign-in code .*invalid_grant/),
      status: 403,
    });
    const fifth = await signIn.begin();
    const declined = new URLSearchParams({error: 'access_denied', state: 'state-5'});
    expect(await signIn.finish(declined, fifth.cookie, 'a')).toEqual({
      refused: 'The sign-in provider refused the sign-in: access_denied',
      status: 403,
    });
    const sixth = await signIn.begin();
    provider.codes.set('c6', new SignInRefused('unreachable', 'connect ECONNREFUSED'));
    expect(await signIn.finish(answer(6, 'c6'), sixth.cookie, 'a')).toMatchObject({status: 502});

    expect(loginsNow()).toBe(0);
    expect(Object.keys(web.data.sign_ins ?? {})).toEqual([]);
    expect(audits.every(({entry}) => entry.action === 'web-sign-in' && entry.result === 'failed')).toBe(true);
    expect(audits).toHaveLength(9);
  });

  it('an unknown user is refused without oidcAutoRegister, and registered with her group with it', async () => {
    const off = await world();
    const begun = await off.signIn.begin();
    off.provider.codes.set('c', {preferred_username: 'carol', groups: ['students']});
    expect(await off.signIn.finish(answer(1, 'c'), begun.cookie, 'a')).toEqual({
      refused: expect.stringContaining('carol is not a sandman user on this host'),
      status: 403,
    });
    expect(off.registered).toEqual([]);
    expect(off.audits[0]!.actor).toBe('web:oidc:carol:a');

    const on = await world({oidcAutoRegister: true});
    const started = await on.signIn.begin();
    on.provider.codes.set('c', {preferred_username: 'carol', groups: ['students']});
    const done = await on.signIn.finish(answer(1, 'c'), started.cookie, '10.1.1.1');
    expect(done).toMatchObject({grant: {kind: 'user', user: 'carol', via: 'oidc'}});
    expect(on.registered).toEqual([{user: 'carol', group: 'students', actor: 'web:oidc:carol:10.1.1.1'}]);
    // A name registration refuses is refused with its words, and no login.
    const root = await on.signIn.begin();
    on.provider.codes.set('r', {preferred_username: 'root'});
    expect(await on.signIn.finish(answer(2, 'r'), root.cookie, 'a')).toEqual({
      refused: expect.stringContaining('You could not be registered: "root"'),
      status: 403,
    });
    expect(Object.keys(on.web.data.logins)).toHaveLength(1);
  });

  it('an admin-group member signs in as the admin', async () => {
    const {provider, signIn} = await world();
    const begun = await signIn.begin();
    provider.codes.set('c', {preferred_username: 'bob', groups: ['gpu-admins']});
    expect(await signIn.finish(answer(1, 'c'), begun.cookie, '10.0.0.7')).toMatchObject({
      grant: {kind: 'admin', user: 'bob', via: 'oidc'},
      actor: 'web:oidc-admin:bob:10.0.0.7',
    });
  });

  it('needs apiPublicUrl for its redirect URI', async () => {
    const signIn = new SiteSignIn({
      ...(await world()),
      config: {...RULES, oidcScopes: ['openid'], apiLoginTtl: HOUR, apiPublicUrl: undefined},
      register: async () => undefined,
      audit: async () => undefined,
    } as never);
    await expect(signIn.begin()).rejects.toMatchObject({
      kind: 'INVALID_INPUT',
      message: expect.stringContaining('apiPublicUrl'),
    });
  });
});

describe('the OIDC settings', () => {
  const load = (env: Record<string, string>) => loadConfig({env, readFile: noFile});

  it('are off by default; scopes always hold openid; auto-register is off', () => {
    const config = load({});
    expect(config.oidcIssuer).toBeUndefined();
    expect(config.oidcUserClaim).toBe('preferred_username');
    expect(config.oidcScopes).toEqual(['openid', 'profile']);
    expect(config.oidcAutoRegister).toBe(false);
    expect(load({SANDMAN_OIDC_SCOPES: 'profile groups'}).oidcScopes).toEqual(['openid', 'profile', 'groups']);
    expect(load({SANDMAN_OIDC_AUTO_REGISTER: 'yes'}).oidcAutoRegister).toBe(true);
  });

  it('take an https issuer, or http on the loopback only', () => {
    expect(load({SANDMAN_OIDC_ISSUER: 'https://login.example.edu/realms/main/'}).oidcIssuer).toBe(
      'https://login.example.edu/realms/main',
    );
    expect(load({SANDMAN_OIDC_ISSUER: 'http://127.0.0.1:35901'}).oidcIssuer).toBe('http://127.0.0.1:35901');
    expect(() => load({SANDMAN_OIDC_ISSUER: 'http://login.example.edu'})).toThrow(
      /oidcIssuer.*must be https \(http only for a provider on 127\.0\.0\.1 or localhost\)/,
    );
    expect(() => load({SANDMAN_OIDC_ISSUER: 'login.example.edu'})).toThrow(/issuer URL/);
    expect(() => load({SANDMAN_OIDC_AUTO_REGISTER: 'maybe'})).toThrow(/must be true or false/);
  });

  it('put "Sign in with NAME" on the login page only when an issuer is set', () => {
    expect(signInName({oidcIssuer: undefined, oidcName: 'X'})).toBeUndefined();
    expect(signInName({oidcIssuer: 'https://login.example.edu:8443/realms/a'})).toBe(
      'login.example.edu:8443',
    );
    expect(signInButton('Example <University>')).toBe(
      '<p class="sign-in"><a class="button" id="sign-in" href="/oidc/login">Sign in with Example &lt;University&gt;</a></p>',
    );
  });

  it('refuse a client secret file others can read, a missing, unreadable or empty one', () => {
    const file = '/etc/sandman/oidc-client-secret';
    expect(clientSecretProblem(file, 0o100600, 'secret\n')).toBeUndefined();
    expect(clientSecretProblem(file, 0o100644, 'secret')).toBe(
      'oidcClientSecretFile /etc/sandman/oidc-client-secret is mode 644: other accounts can read or change it (it must be 0600)',
    );
    expect(clientSecretProblem(file, undefined, undefined)).toMatch(/does not exist$/);
    expect(clientSecretProblem(file, 0o100600, undefined)).toMatch(/cannot be read by this account$/);
    expect(clientSecretProblem(file, 0o100600, ' \n')).toMatch(/is empty$/);
  });

  it('the OpenAPI document lists the sign-in routes and stays valid', async () => {
    expect(Object.keys(OPENAPI.paths)).toEqual(expect.arrayContaining(['/oidc/login', '/oidc/callback']));
    await SwaggerParser.validate(structuredClone(OPENAPI) as never);
  });
});
