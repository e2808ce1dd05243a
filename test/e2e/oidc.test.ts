/// <reference lib="dom" />
import {chmod, readFile, writeFile} from 'node:fs/promises';
import type {Server} from 'node:http';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import Provider, {type Configuration} from 'oidc-provider';
import type {Browser, BrowserContext, Page} from 'playwright-core';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';

import {launchChromium, SCREENSHOTS} from '../helpers/browser.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {socketActivatedApi, stopActivator} from '../helpers/socket-activated-api.js';

/**
 * Site sign-in (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)") against a real OpenID provider: panva's
 * certified oidc-provider on 127.0.0.1, started here with alice, bob and carol; its own login form
 * driven in Debian's Chromium by playwright-core; sandman's API under the real
 * systemd-socket-activate. Two API processes share one state: one as configured (no
 * auto-register), one with oidcAutoRegister.
 */
// Response bodies and state, read field by field as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const API_PORT = 35_900;
const AUTO_PORT = 35_901;
const PROVIDER_PORT = 35_902;
const API = `http://127.0.0.1:${API_PORT}`;
const AUTO = `http://127.0.0.1:${AUTO_PORT}`;
const ISSUER = `http://127.0.0.1:${PROVIDER_PORT}`;
const TOKEN = 'oidc-test-api-token-0123456789abc';
const CLIENT_SECRET = 'oidc-test-client-secret-0123456789abcdef';
/** The provider's codes expire this soon, so a test can outwait one. */
const CODE_TTL_S = 4;

/** The site's people, as its directory would give them. */
const PEOPLE: Record<string, Record<string, unknown>> = {
  alice: {preferred_username: 'alice', name: 'Alice Liddell', groups: ['physics']},
  bob: {preferred_username: 'bob', name: 'Bob Admin', groups: ['it', 'gpu-admins']},
  carol: {preferred_username: 'carol', name: 'Carol New', groups: ['physics', 'students']},
};

let sandbox: Sandbox;
let gpu: Record<string, string>;
let activators: ResultPromise[] = [];
let providerServer: Server;
let browser: Browser;
let alice: Json;
let bob: Json;

async function startProvider(): Promise<Server> {
  const configuration: Configuration = {
    clients: [
      {
        client_id: 'sandman',
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${API}/oidc/callback`, `${AUTO}/oidc/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx, id) {
      const person = PEOPLE[id];
      if (!person) return undefined;
      return {accountId: id, claims: async () => ({sub: id, ...person})};
    },
    claims: {openid: ['sub'], profile: ['preferred_username', 'name'], groups: ['groups']},
    scopes: ['openid', 'profile', 'groups'],
    // The person consents once and for all (a site's own provider does not ask about its own services).
    async loadExistingGrant(ctx) {
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client!.clientId,
        accountId: ctx.oidc.session!.accountId!,
      });
      grant.addOIDCScope('openid profile groups');
      await grant.save();
      return grant;
    },
    pkce: {required: () => true},
    ttl: {AuthorizationCode: CODE_TTL_S},
    cookies: {keys: ['oidc-test-cookie-key']},
  };
  const provider = new Provider(ISSUER, configuration);
  const server = provider.listen(PROVIDER_PORT);
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

async function waitHealthy(url: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const up = await execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${url}/healthz`], {
      reject: false,
    });
    if (String(up.stdout) === '200') return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

const contexts: BrowserContext[] = [];
async function newPage(): Promise<{context: BrowserContext; page: Page}> {
  const context = await browser.newContext({viewport: {width: 1000, height: 700}});
  contexts.push(context);
  return {context, page: await context.newPage()};
}

async function loginCookie(context: BrowserContext): Promise<string | undefined> {
  return (await context.cookies()).find((cookie) => cookie.name === 'sandman_login')?.value;
}

/**
 * At the provider's own login form (oidc-provider's), as `who`, until the provider sends the
 * browser back to `api`: sandman's answer to that (a redirect to the console when signed in).
 */
async function signInAtProvider(page: Page, who: string, api = API): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(`${ISSUER}/interaction/`));
  await page.locator('input[name=login]').fill(who);
  await page.locator('input[name=password]').fill('any password');
  const callback = page.waitForResponse((response) => response.url().startsWith(`${api}/oidc/callback`));
  await page.getByRole('button', {name: 'Sign-in'}).click();
  const answered = await callback;
  expect(answered.status(), await answered.text().catch(() => '')).toBe(303);
  expect(answered.headers().location).toBe('/');
}

/**
 * A sign-in begun in `context` (GET /oidc/login, as its "Sign in with" link does) and carried
 * through the provider by plain HTTP as `who` (its login form, as a browser posts it), stopped
 * where the provider sends the browser back: the callback URL, not yet opened. Chromium cannot
 * hold a redirect's target (page.route sees only a navigation's first request), hence the HTTP.
 * `change` alters the authorization request on its way to the provider; `login: false` expects
 * the provider to answer without its form.
 */
async function answerFor(
  context: BrowserContext,
  who: string,
  options: {change?: (url: URL) => void; login?: boolean} = {},
): Promise<string> {
  const start = await fetch(`${API}/oidc/login`, {redirect: 'manual'});
  expect(start.status).toBe(303);
  const held = /^sandman_oidc=([^;]+)/.exec(start.headers.getSetCookie()[0] ?? '')?.[1];
  expect(held).toBeDefined();
  await context.addCookies([
    {
      name: 'sandman_oidc',
      value: held!,
      domain: '127.0.0.1',
      path: '/oidc/',
      httpOnly: true,
      sameSite: 'Lax',
    },
  ]);
  const authorization = new URL(start.headers.get('location')!);
  options.change?.(authorization);
  // The provider's cookies (its interaction and session), as a browser keeps them.
  const jar = new Map<string, string>();
  const visit = async (url: string, init: {method?: string; body?: string} = {}) => {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(init.body ? {'content-type': 'application/x-www-form-urlencoded'} : {}),
      },
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return response;
  };
  let response = await visit(authorization.href);
  let forms = 0;
  for (let hop = 0; hop < 12; hop++) {
    const location = response.headers.get('location');
    if (location) {
      const next = new URL(location, ISSUER).href;
      if (next.startsWith(`${API}/oidc/callback`)) {
        expect(forms > 0).toBe(options.login ?? true);
        return next;
      }
      response = await visit(next);
      continue;
    }
    // The provider's own page: its login form (oidc-provider's development interactions).
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(page)?.[1];
    if (!action || !prompt)
      throw new Error(`the provider answered ${response.status}: ${page.slice(0, 500)}`);
    forms++;
    response = await visit(new URL(action, ISSUER).href, {
      method: 'POST',
      body: new URLSearchParams({prompt, login: who, password: 'any password'}).toString(),
    });
  }
  throw new Error('the provider never sent the browser back');
}

/** Opens a callback URL: its status and the refusal page's words. */
async function openAnswer(page: Page, url: string): Promise<{status: number; title: string; reason: string}> {
  const response = await page.goto(url);
  return {
    status: response!.status(),
    title: await page.locator('h2').innerText(),
    reason: await page.locator('#reason').innerText(),
  };
}

async function auditLines(): Promise<Json[]> {
  const text = await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

async function usersInState(): Promise<Record<string, Json>> {
  return JSON.parse(await readFile(sandbox.stateFile, 'utf8')).users;
}

beforeAll(async () => {
  sandbox = createSandbox({
    portStart: 35_910,
    portCount: 40,
    config: {
      oidcIssuer: ISSUER,
      oidcName: 'Example University',
      oidcClientId: 'sandman',
      oidcScopes: 'openid profile groups',
      oidcGroupClaim: 'groups',
      oidcAdminGroup: 'gpu-admins',
      groups: {students: {userMaxSessions: 1}},
    },
  });
  gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
  const tokenFile = path.join(sandbox.dir, 'api-token');
  await writeFile(tokenFile, TOKEN + '\n');
  await chmod(tokenFile, 0o600);
  const secretFile = path.join(sandbox.dir, 'oidc-client-secret');
  await writeFile(secretFile, CLIENT_SECRET + '\n');
  await chmod(secretFile, 0o600);
  for (const name of ['alice', 'bob'])
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(sandbox.dir, name)]);
  // Each her own MIG device of the replayed A100.
  for (const [name, profile] of [
    ['alice', '1c.2g.10gb'],
    ['bob', '1g.5gb'],
  ] as const) {
    const key = path.join(sandbox.dir, `${name}.pub`);
    const added = await sandbox.run(['user', 'add', name, '--ssh-key', key, '--profile', profile], {
      env: gpu,
    });
    expect(added.exitCode, added.stderr).toBe(0);
  }
  alice = (await sandbox.json<Json>(['session', 'create', 'alice', '--ttl', '1h'], {env: gpu})).body;
  bob = (await sandbox.json<Json>(['session', 'create', 'bob', '--ttl', '1h'], {env: gpu})).body;
  expect(alice.session_id, JSON.stringify(alice)).toBeDefined();
  expect(bob.session_id, JSON.stringify(bob)).toBeDefined();
  providerServer = await startProvider();
  const env = {
    ...sandbox.env,
    ...gpu,
    SANDMAN_API_IDLE_TIMEOUT: '5s',
    SANDMAN_API_TOKEN_FILE: tokenFile,
    SANDMAN_OIDC_CLIENT_SECRET_FILE: secretFile,
  };
  activators = [
    socketActivatedApi(`127.0.0.1:${API_PORT}`, {...env, SANDMAN_API_PUBLIC_URL: API}),
    socketActivatedApi(`127.0.0.1:${AUTO_PORT}`, {
      ...env,
      SANDMAN_API_PUBLIC_URL: AUTO,
      SANDMAN_OIDC_AUTO_REGISTER: 'true',
    }),
  ];
  await waitHealthy(API);
  await waitHealthy(AUTO);
  browser = await launchChromium();
}, 240_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  for (const activator of activators) await stopActivator(activator);
  providerServer?.close();
  providerServer?.closeAllConnections();
  await sandbox.run(['session', 'rm', '--all', '--yes'], {env: gpu});
  await sandbox.cleanup();
});

describe('signing in with the site', () => {
  it('the login page offers "Sign in with Example University" beside the token form', async () => {
    const {page} = await newPage();
    await page.goto(`${API}/`);
    const button = page.getByRole('link', {name: 'Sign in with Example University'});
    await button.waitFor({state: 'visible'});
    expect(await button.getAttribute('href')).toBe('/oidc/login');
    expect(await page.getByLabel('API token').isVisible()).toBe(true);
    await page.screenshot({path: path.join(SCREENSHOTS, 'console-sign-in.png')});
  });

  it('alice signs in at the provider and lands in her console: her session only, her login cookie, audit lines name her', async () => {
    const {context, page} = await newPage();
    await page.goto(`${API}/`);
    const authorization = page.waitForRequest((request) => request.url().startsWith(`${ISSUER}/auth?`));
    await page.getByRole('link', {name: 'Sign in with Example University'}).click();
    // The browser went to the provider with PKCE (S256), a state and a nonce, for this redirect URI.
    const asked = new URL((await authorization).url()).searchParams;
    expect(asked.get('code_challenge_method')).toBe('S256');
    expect(asked.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(asked.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(asked.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(asked.get('redirect_uri')).toBe(`${API}/oidc/callback`);
    expect(asked.get('scope')).toBe('openid profile groups');
    await signInAtProvider(page, 'alice');
    await page.waitForURL(`${API}/`);
    await expect.poll(() => page.locator('#who').innerText(), {timeout: 15_000}).toBe('Logged in as alice');
    await expect
      .poll(() => page.locator('#sessions tbody tr[data-session]').count(), {timeout: 15_000})
      .toBe(1);
    expect(await page.locator(`#sessions tr[data-session="${alice.session_id}"]`).count()).toBe(1);
    expect(await page.locator('#sessions').innerText()).not.toContain('bob');
    expect(await page.locator('#gpus-section').isVisible()).toBe(false);
    const cookie = (await context.cookies()).find((one) => one.name === 'sandman_login')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    // The sign-in cookie is gone once used.
    expect((await context.cookies()).map((one) => one.name)).not.toContain('sandman_oidc');
    // Her extend from the console is hers in the audit log.
    const row = page.locator(`#sessions tr[data-session="${alice.session_id}"]`);
    await row.getByRole('button', {name: 'Extend 1 h'}).click();
    await expect
      .poll(async () => (await auditLines()).filter((line) => line.action === 'extend').length, {
        timeout: 15_000,
      })
      .toBe(1);
    const lines = await auditLines();
    expect(lines.find((line) => line.action === 'extend')).toMatchObject({
      actor: 'web:oidc:alice:127.0.0.1',
      user: 'alice',
      result: 'ok',
    });
    expect(lines.find((line) => line.action === 'web-sign-in' && line.result === 'ok')).toMatchObject({
      actor: 'web:oidc:alice:127.0.0.1',
      user: 'alice',
    });
    // Her login is a user login: bob's session and the admin's routes are 403 to it.
    const theirs = await page.evaluate(async (id) => (await fetch(`/sessions/${id}`)).status, bob.session_id);
    expect(theirs).toBe(403);
    expect(await page.evaluate(async () => (await fetch('/users')).status)).toBe(403);
  });

  it('bob, in oidcAdminGroup, signs in as the admin and sees every session and the GPUs', async () => {
    const {page} = await newPage();
    await page.goto(`${API}/`);
    await page.getByRole('link', {name: 'Sign in with Example University'}).click();
    await signInAtProvider(page, 'bob');
    await page.waitForURL(`${API}/`);
    await expect
      .poll(() => page.locator('#sessions tbody tr[data-session]').count(), {timeout: 15_000})
      .toBe(2);
    expect(await page.locator('#gpus-section').isVisible()).toBe(true);
    expect(await page.evaluate(async () => (await fetch('/whoami')).json())).toEqual({
      kind: 'admin',
      user: 'bob',
      via: 'oidc',
    });
    expect(await page.evaluate(async () => (await fetch('/users')).status)).toBe(200);
    expect(
      (await auditLines()).find((line) => line.action === 'web-sign-in' && line.user === 'bob'),
    ).toMatchObject({actor: 'web:oidc-admin:bob:127.0.0.1', result: 'ok'});
  });
});

describe('refusals: a clear page and no login cookie', () => {
  it('a tampered state, then the same answer again (replayed)', async () => {
    const {context, page} = await newPage();
    const answer = await answerFor(context, 'alice');
    const tampered = new URL(answer);
    tampered.searchParams.set('state', 'tampered-' + tampered.searchParams.get('state'));
    const refused = await openAnswer(page, tampered.href);
    expect(refused).toEqual({
      status: 403,
      title: 'Sign-in refused',
      reason: expect.stringContaining('its state does not match'),
    });
    expect(await loginCookie(context)).toBeUndefined();
    // The sign-in is spent: even the genuine answer is refused now.
    const replayed = await openAnswer(page, answer);
    expect(replayed.status).toBe(403);
    expect(replayed.reason).toMatch(/expired, was already used, or was started in another browser/);
    expect(await loginCookie(context)).toBeUndefined();
  });

  it('a wrong nonce (the authorization request changed on its way to the provider)', async () => {
    const {context, page} = await newPage();
    const answer = await answerFor(context, 'alice', {
      change: (url) => url.searchParams.set('nonce', 'not-sandmans'),
    });
    const refused = await openAnswer(page, answer);
    expect(refused).toEqual({
      status: 403,
      title: 'Sign-in refused',
      reason: expect.stringContaining('its nonce does not match'),
    });
    expect(await loginCookie(context)).toBeUndefined();
  });

  it('an expired code', async () => {
    const {context, page} = await newPage();
    const answer = await answerFor(context, 'alice');
    await sleep((CODE_TTL_S + 1) * 1000);
    const refused = await openAnswer(page, answer);
    expect(refused.status).toBe(403);
    expect(refused.reason).toMatch(
      /refused the sign-in code \(expired, already used, or not for this site\): invalid_grant/,
    );
    expect(await loginCookie(context)).toBeUndefined();
  });

  it("the provider's error (prompt=none without a login there)", async () => {
    const {context, page} = await newPage();
    const answer = await answerFor(context, 'alice', {
      change: (url) => url.searchParams.set('prompt', 'none'),
      login: false,
    });
    expect(new URL(answer).searchParams.get('error')).toBe('login_required');
    const refused = await openAnswer(page, answer);
    expect(refused.status).toBe(403);
    expect(refused.reason).toMatch(/^The sign-in provider refused the sign-in: login_required/);
    expect(await loginCookie(context)).toBeUndefined();
  });

  it('an unknown user (carol) without oidcAutoRegister; a callback out of nowhere', async () => {
    const {context, page} = await newPage();
    const answer = await answerFor(context, 'carol');
    const refused = await openAnswer(page, answer);
    expect(refused).toEqual({
      status: 403,
      title: 'Sign-in refused',
      reason:
        'carol is not a sandman user on this host: ask the admin to register you ("sandman user add carol").',
    });
    expect(await loginCookie(context)).toBeUndefined();
    expect((await usersInState()).carol).toBeUndefined();
    await page.screenshot({path: path.join(SCREENSHOTS, 'sign-in-refused.png')});
    // No sign-in started in this browser: nothing to finish.
    const stray = await execa('curl', ['-s', '-i', `${API}/oidc/callback?code=x&state=y`]);
    expect(String(stray.stdout)).toMatch(/^HTTP\/1\.1 403/);
    expect(String(stray.stdout)).not.toMatch(/sandman_login=[^;]/);
  });
});

describe('oidcAutoRegister', () => {
  it('registers carol on her first sign-in, in her group that the config names, and logs her in', async () => {
    const {page} = await newPage();
    await page.goto(`${AUTO}/`);
    await page.getByRole('link', {name: 'Sign in with Example University'}).click();
    await signInAtProvider(page, 'carol', AUTO);
    await page.waitForURL(`${AUTO}/`);
    await expect
      // Not logged in: what the console says instead.
      .poll(async () => (await page.locator('#who').innerText()) || page.locator('main').innerText(), {
        timeout: 15_000,
      })
      .toBe('Logged in as carol');
    const shown = await sandbox.json<Json>(['user', 'show', 'carol'], {env: gpu});
    expect(shown.exitCode).toBe(0);
    expect(shown.body).toMatchObject({user: 'carol', group: 'students'});
    expect(shown.body.limits.max_sessions).toEqual({value: 1, source: 'group students'});
    expect(
      (await auditLines()).find((line) => line.action === 'user-add' && line.user === 'carol'),
    ).toMatchObject({actor: 'web:oidc:carol:127.0.0.1', result: 'ok'});
  });
});

describe('a client secret file others can read', () => {
  it('is refused with a page saying so, and nothing is asked of the provider', async () => {
    const secretFile = path.join(sandbox.dir, 'oidc-client-secret');
    await chmod(secretFile, 0o644);
    try {
      const start = await fetch(`${API}/oidc/login`, {redirect: 'manual'});
      expect(start.status).toBe(500);
      expect(start.headers.getSetCookie()).toEqual([]);
      expect(await start.text()).toContain(
        `oidcClientSecretFile ${secretFile} is mode 644: other accounts can read or change it (it must be 0600)`,
      );
    } finally {
      await chmod(secretFile, 0o600);
    }
  });
});

describe('beside the site sign-in', () => {
  it('the token login and login links keep working', async () => {
    const {page} = await newPage();
    await page.goto(`${API}/`);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', {name: 'Log in'}).click();
    await expect
      .poll(() => page.locator('#sessions tbody tr[data-session]').count(), {timeout: 15_000})
      .toBe(2);
    const link = await sandbox.json<Json>(['user', 'login-link', 'alice'], {
      env: {...gpu, SANDMAN_API_PUBLIC_URL: API},
    });
    expect(link.exitCode).toBe(0);
    const second = await newPage();
    await second.page.goto(link.body.url);
    await expect
      .poll(() => second.page.locator('#who').innerText(), {timeout: 15_000})
      .toBe('Logged in as alice');
  });
});
