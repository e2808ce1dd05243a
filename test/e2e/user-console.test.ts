/// <reference lib="dom" />
import {chmod, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import SwaggerParser from '@apidevtools/swagger-parser';
import {execa, type ResultPromise} from 'execa';
import type {Browser, BrowserContext, Page} from 'playwright-core';
import {afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished} from 'vitest';

import {launchChromium, SCREENSHOTS} from '../helpers/browser.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {socketActivatedApi, stopActivator} from '../helpers/socket-activated-api.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {wsHandshake} from '../helpers/ws-handshake.js';

/**
 * User logins (docs/admin/console-and-sign-in.md "User logins"): `sandman user login-link alice` → a one-time link that logs
 * a browser in as alice; the console and the HTTP API then show and change her own sessions only
 * (403 for bob's and for the admin's routes), in Debian's Chromium driven by playwright-core,
 * against the API under the real systemd-socket-activate on TCP.
 */
// Response bodies, read field by field as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const API_PORT = 36_850;
const API = `http://127.0.0.1:${API_PORT}`;
const TOKEN = 'user-console-test-token-0123456789';

let sandbox: Sandbox;
let gpu: Record<string, string>;
let activator: ResultPromise;
let browser: Browser;
let alice: Json;
let bob: Json;

async function stateSession(id: string): Promise<Json> {
  const state = JSON.parse(await readFile(sandbox.env.SANDMAN_STATE_FILE!, 'utf8'));
  return state.sessions.find((session: Json) => session.id === id);
}

/** curl against the TCP API (from the console's own origin, as the console's fetch() is); status and parsed body. */
async function curl(
  method: string,
  url: string,
  cookie: string,
  body?: unknown,
  origin = API,
): Promise<{status: number; body: Json}> {
  const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '-X', method, `${API}${url}`];
  args.push('-H', `Cookie: sandman_login=${cookie}`, '-H', `Origin: ${origin}`);
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  const result = await execa('curl', args, {reject: false});
  const text = String(result.stdout);
  const split = text.lastIndexOf('\n');
  let parsed: unknown = text.slice(0, split);
  try {
    parsed = JSON.parse(text.slice(0, split));
  } catch {
    // not JSON
  }
  return {status: Number(text.slice(split + 1)), body: parsed};
}

/** A WebSocket handshake with this cookie from the console's origin: "open" or "refused STATUS". */
function wsOpen(pathname: string, cookie: string): Promise<string> {
  return wsHandshake(`ws://127.0.0.1:${API_PORT}${pathname}`, {
    cookie: `sandman_login=${cookie}`,
    origin: API,
  });
}

const contexts: BrowserContext[] = [];
async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({viewport: {width: 1100, height: 760}});
  contexts.push(context);
  return context;
}

/** `sandman user login-link USER --json` as the admin runs it on the host. */
async function loginLink(user: string, ...flags: string[]): Promise<{exitCode: number; body: Json}> {
  return sandbox.json<Json>(['user', 'login-link', user, ...flags], {env: gpu});
}

/** A fresh browser that opens alice's link: her console, and her login cookie. */
async function openAsAlice(): Promise<{page: Page; cookie: string}> {
  const link = await loginLink('alice');
  expect(link.exitCode, JSON.stringify(link.body)).toBe(0);
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(link.body.url);
  await page.locator('#app').waitFor({state: 'visible'});
  await expect
    .poll(() => page.locator('#sessions tbody tr[data-session]').count(), {timeout: 15_000})
    .toBe(1);
  const cookie = (await context.cookies()).find((one) => one.name === 'sandman_login')!;
  return {page, cookie: cookie.value};
}

beforeAll(async () => {
  sandbox = createSandbox({portStart: 36_860, portCount: 40, config: {apiPublicUrl: API}});
  gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
  const tokenFile = path.join(sandbox.dir, 'api-token');
  await writeFile(tokenFile, TOKEN + '\n');
  await chmod(tokenFile, 0o600);
  for (const name of ['alice', 'bob'])
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(sandbox.dir, name)]);
  // alice: her own key, a MIG default, a 3-hour limit, a GPU-hour budget and two sessions at most.
  const added = await sandbox.run(
    [
      'user',
      'add',
      'alice',
      '--ssh-key',
      path.join(sandbox.dir, 'alice.pub'),
      '--profile',
      '1c.2g.10gb',
      '--max-ttl',
      '3h',
      '--gpu-hours',
      '40h/7d',
      '--max-sessions',
      '2',
    ],
    {env: gpu},
  );
  expect(added.exitCode, added.stderr).toBe(0);
  const bobAdded = await sandbox.run(
    // bob holds the replayed A100's one 1g.5gb device: alice's request for one waits in line.
    ['user', 'add', 'bob', '--ssh-key', path.join(sandbox.dir, 'bob.pub'), '--profile', '1g.5gb'],
    {env: gpu},
  );
  expect(bobAdded.exitCode, bobAdded.stderr).toBe(0);
  alice = (await sandbox.json<Json>(['session', 'create', 'alice', '--ttl', '1h'], {env: gpu})).body;
  bob = (await sandbox.json<Json>(['session', 'create', 'bob', '--ttl', '1h'], {env: gpu})).body;
  expect(alice.session_id, JSON.stringify(alice)).toBeDefined();
  expect(bob.session_id, JSON.stringify(bob)).toBeDefined();
  const env = {...sandbox.env, ...gpu, SANDMAN_API_IDLE_TIMEOUT: '5s', SANDMAN_API_TOKEN_FILE: tokenFile};
  activator = socketActivatedApi(`127.0.0.1:${API_PORT}`, env);
  for (let attempt = 0; attempt < 50; attempt++) {
    const up = await execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${API}/healthz`], {
      reject: false,
    });
    if (String(up.stdout) === '200') break;
    await sleep(100);
  }
  browser = await launchChromium();
}, 240_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  if (activator) await stopActivator(activator);
  await sandbox.run(['session', 'rm', '--all', '--yes'], {env: gpu});
  await sandbox.cleanup();
});

describe('sandman user login-link', () => {
  it('prints a one-time link from apiPublicUrl; an unregistered user is exit 3', async () => {
    const link = await sandbox.run(['user', 'login-link', 'alice', '--ttl', '10m'], {env: gpu});
    expect(link.exitCode, link.stderr).toBe(0);
    expect(link.stdout).toMatch(
      new RegExp(
        `^${API}/t/[A-Za-z0-9_-]{43}\\nWorks once, until .+ UTC \\(in 10m\\), and logs its opener in as alice\\.$`,
      ),
    );
    const unknown = await sandbox.run(['user', 'login-link', 'carol'], {env: gpu});
    expect(unknown.exitCode).toBe(3);
    expect(unknown.stderr).toMatch(/user carol is not registered/);
  });
});

describe("alice's console", () => {
  it('lists her session only, with her limits and budget; no GPU holders, usage or Remove; the cookie is HttpOnly and Lax', async () => {
    const link = await loginLink('alice');
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(link.body.url);
    expect(page.url()).toBe(`${API}/`);
    await page.locator('#app').waitFor({state: 'visible'});
    await expect
      .poll(() => page.locator('#sessions tbody tr[data-session]').count(), {timeout: 15_000})
      .toBe(1);
    expect(await page.locator('#who').innerText()).toBe('Logged in as alice');
    const row = page.locator(`#sessions tr[data-session="${alice.session_id}"]`);
    expect(await row.innerText()).toMatch(/alice\s+running\s+1c\.2g\.10gb/);
    expect(await page.locator(`#sessions tr[data-session="${bob.session_id}"]`).count()).toBe(0);
    expect(await page.locator('#sessions').innerText()).not.toContain('bob');
    expect(await row.getByRole('button', {name: 'Remove alice'}).count()).toBe(0);
    const facts = await page.locator('#me-facts').innerText();
    expect(facts).toMatch(/Sessions\s+1 of at most 2/);
    expect(facts).toMatch(/Longest session\s+3 h from its creation/);
    expect(facts).toMatch(/GPU-hours\s+0\.\d\d used, \d+\.\d\d left of 40 per 7d/);
    expect(await page.locator('#gpus-section').isVisible()).toBe(false);
    expect(await page.locator('#usage-section').isVisible()).toBe(false);
    expect(await page.getByLabel('User', {exact: true}).isVisible()).toBe(false);
    const cookie = (await context.cookies()).find((one) => one.name === 'sandman_login')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    await page.screenshot({path: path.join(SCREENSHOTS, 'console-user.png'), fullPage: true});
  });

  it('extends (her limit applies: beyond 3 h is the policy refusal), stops and starts her session from the console; audit lines name her', async () => {
    const {page} = await openAsAlice();
    const row = page.locator(`#sessions tr[data-session="${alice.session_id}"]`);
    const before = (await stateSession(alice.session_id)).expires_at;
    const expires = await row.locator('.expires').innerText();
    await row.getByRole('button', {name: 'Extend 1 h alice'}).click();
    await expect.poll(() => row.locator('.expires').innerText(), {timeout: 30_000}).not.toBe(expires);
    expect(Date.parse((await stateSession(alice.session_id)).expires_at) - Date.parse(before)).toBe(
      3_600_000,
    );
    // 2 h now; one more hour is 3 h, the next is over her userMaxTtl: the console says why, nothing moves.
    await row.getByRole('button', {name: 'Extend 1 h alice'}).click();
    await expect.poll(() => page.locator('#status').innerText(), {timeout: 30_000}).toMatch(/alice: done/);
    const atLimit = (await stateSession(alice.session_id)).expires_at;
    expect(Date.parse(atLimit) - Date.parse(before)).toBe(2 * 3_600_000);
    await row.getByRole('button', {name: 'Extend 1 h alice'}).click();
    await expect
      .poll(() => page.locator('#status').innerText(), {timeout: 30_000})
      .toMatch(/^Extending alice: .*(userMaxTtl|3 hours|180 minutes)/);
    expect((await stateSession(alice.session_id)).expires_at).toBe(atLimit);
    // Stop: the row and the record say stopped; Start brings it back.
    await row.getByRole('button', {name: 'Stop alice'}).click();
    await expect.poll(() => row.locator('td').nth(1).innerText(), {timeout: 60_000}).toBe('stopped');
    expect((await stateSession(alice.session_id)).status).toBe('stopped');
    const shown = await sandbox.json<Json>(['session', 'show', alice.session_id], {env: gpu});
    expect(shown.body.status).toBe('stopped');
    await row.getByRole('button', {name: 'Start alice'}).click();
    await expect.poll(() => row.locator('td').nth(1).innerText(), {timeout: 90_000}).toBe('running');
    expect((await stateSession(alice.session_id)).status).toBe('running');
    const audit = await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8');
    for (const action of ['extend', 'stop', 'start'])
      expect(audit).toMatch(
        new RegExp(
          `"actor":"web:user:alice:127\\.0\\.0\\.1","action":"${action}","session":"${alice.session_id}"`,
        ),
      );
  });

  it("creates for herself with her defaults (her key, no private key handed out); over her session limit the refusal is the API's 403", async () => {
    const {page} = await openAsAlice();
    await page.getByRole('combobox', {name: /^GPU/}).selectOption({label: 'no GPU'});
    await page.getByRole('button', {name: 'Create'}).click();
    await expect.poll(() => page.locator('#status').innerText(), {timeout: 60_000}).toMatch(/alice: done/);
    expect(await page.locator('#created').innerText()).toMatch(/Session [0-9a-f]{12} for alice/);
    expect(await page.locator('#created .private-key').count()).toBe(0);
    const mine = (await sandbox.json<Json>(['session', 'ls', '--user', 'alice'], {env: gpu})).body;
    expect(mine).toHaveLength(2);
    // The next tests see her first session alone, whatever this one's end.
    onTestFinished(async () => {
      for (const session of mine.filter((one: Json) => one.session_id !== alice.session_id))
        await sandbox.run(['session', 'rm', session.session_id, '--yes'], {env: gpu});
    });
    await expect
      .poll(() => page.locator('#sessions tbody tr[data-session]').count(), {timeout: 15_000})
      .toBe(2);
    // A third: her limit of two, the usual exit-8 words, as a 403 with code POLICY.
    await page.getByRole('button', {name: 'Create'}).click();
    await expect
      .poll(() => page.locator('#status').innerText(), {timeout: 30_000})
      .toMatch(
        /^Creating a session for alice: alice has 2 session\(s\) .* may have at most 2 \(userMaxSessions/,
      );
    expect((await sandbox.json<Json>(['session', 'ls', '--user', 'alice'], {env: gpu})).body).toHaveLength(2);
  });
});

describe("alice's terminal", () => {
  it('opens from her console: a shell in her session, as alice', async () => {
    const {page: console} = await openAsAlice();
    const [page] = await Promise.all([
      console.context().waitForEvent('page'),
      console
        .locator(`#sessions tr[data-session="${alice.session_id}"]`)
        .getByRole('button', {name: 'Open terminal alice'})
        .click(),
    ]);
    await page.waitForFunction(
      () => (window as unknown as {sandmanTerminal?: {ready: boolean}}).sandmanTerminal?.ready,
    );
    await page.locator('.xterm').click();
    await page.keyboard.type('id -un\n');
    await expect.poll(() => page.locator('.xterm-rows').innerText(), {timeout: 15_000}).toMatch(/^alice$/m);
  });
});

describe("alice's queue", () => {
  it('a create that finds nothing free waits in line: her console shows its place, GET /me lists it', async () => {
    const {page, cookie} = await openAsAlice();
    await page.getByRole('combobox', {name: /^GPU/}).selectOption({label: 'MIG 1g.5gb'});
    await page.getByLabel('Wait in line when nothing is free').check();
    await page.getByRole('button', {name: 'Create'}).click();
    await expect.poll(() => page.locator('#status').innerText(), {timeout: 30_000}).toMatch(/alice: done/);
    expect(await page.locator('#created').innerText()).toMatch(/^Request [0-9a-f]{12} for alice is in line/);
    const me = (await curl('GET', '/me', cookie)).body;
    expect(me.queued).toHaveLength(1);
    const id = me.queued[0].session_id as string;
    onTestFinished(async () => void (await sandbox.run(['session', 'rm', id, '--yes'], {env: gpu})));
    expect(me.queued[0]).toMatchObject({user_id: 'alice', status: 'queued', queue_position: 1});
    const row = page.locator(`#sessions tr[data-session="${id}"]`);
    await expect.poll(() => row.count(), {timeout: 15_000}).toBe(1);
    expect(await row.innerText()).toMatch(/^alice\s+queued, #1\s+MIG 1g\.5gb/);
    await page.screenshot({path: path.join(SCREENSHOTS, 'console-user-queued.png'), fullPage: true});
  });
});

describe("bob's session, from alice's login", () => {
  it('is neither listed nor reachable: 403 by URL, extend, stop, terminal; his state unchanged', async () => {
    const {page, cookie} = await openAsAlice();
    const bobBefore = JSON.stringify(await stateSession(bob.session_id));
    // By URL in her browser.
    const byUrl = await page.goto(`${API}/sessions/${bob.session_id}`);
    expect(byUrl?.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(/no session of yours is/);
    // Her cookie from a client: the list holds hers only; his ID, his name, a prefix of his ID: 403.
    const listed = await curl('GET', '/sessions', cookie);
    expect(listed.status).toBe(200);
    expect(listed.body.map((session: Json) => session.user_id)).toEqual(['alice']);
    for (const reference of [bob.session_id, 'bob', bob.session_id.slice(0, 6)]) {
      const shown = await curl('GET', `/sessions/${reference}`, cookie);
      expect(shown.status, reference).toBe(403);
      expect(shown.body).toEqual({
        error: `no session of yours is "${reference}": a user login sees and changes her own sessions only`,
        code: 'FORBIDDEN',
      });
    }
    expect((await curl('POST', `/sessions/${bob.session_id}/extend`, cookie, {ttl_minutes: 60})).status).toBe(
      403,
    );
    expect((await curl('POST', `/sessions/${bob.session_id}/stop`, cookie)).status).toBe(403);
    expect((await curl('POST', `/sessions/${bob.session_id}/start`, cookie)).status).toBe(403);
    expect((await curl('POST', `/sessions/${bob.session_id}/terminal-link`, cookie)).status).toBe(403);
    expect(await wsOpen(`/sessions/${bob.session_id}/terminal`, cookie)).toBe('refused 403');
    expect((await curl('POST', '/sessions', cookie, {user_id: 'bob'})).body).toMatchObject({
      code: 'FORBIDDEN',
      error: expect.stringContaining('for herself only'),
    });
    expect(JSON.stringify(await stateSession(bob.session_id))).toBe(bobBefore);
  });

  it("the admin's routes are 403 with a clear message; her own terminal opens", async () => {
    const {cookie} = await openAsAlice();
    for (const [method, url] of [
      ['DELETE', `/sessions/${alice.session_id}`],
      ['DELETE', '/sessions'],
      ['GET', '/usage?by=user'],
      ['GET', '/users'],
      ['GET', '/users/bob'],
      ['PATCH', '/users/alice'],
      ['GET', '/gpus'],
    ] as const) {
      const answer = await curl(
        method,
        url,
        cookie,
        method === 'PATCH' ? {limits: {max_ttl: '99h'}} : undefined,
      );
      expect(answer.status, `${method} ${url}`).toBe(403);
      expect(answer.body.error, `${method} ${url}`).toMatch(
        /is for the admin: a user login sees and changes her own sessions and jobs only/,
      );
    }
    expect((await stateSession(alice.session_id)).status).toBe('running');
    // The CSRF rule holds for her login too: her own stop, from another site's page, is refused.
    const forged = await curl(
      'POST',
      `/sessions/${alice.session_id}/stop`,
      cookie,
      undefined,
      'http://evil.example',
    );
    expect(forged.status).toBe(403);
    expect(forged.body.error).toMatch(/may not use the login cookie/);
    expect((await stateSession(alice.session_id)).status).toBe('running');
    expect((await curl('GET', '/gpus/available', cookie)).status).toBe(200);
    expect(await wsOpen(`/sessions/${alice.session_id}/terminal`, cookie)).toBe('open');
  });
});

describe('the link and GET /me', () => {
  it('works once; an expired link is refused', async () => {
    const link = await loginLink('alice');
    const first = await (await newContext()).newPage();
    expect((await first.goto(link.body.url))?.url()).toBe(`${API}/`);
    const second = await (await newContext()).newPage();
    const again = await second.goto(link.body.url);
    expect(again?.status()).toBe(403);
    expect(await second.textContent('body')).toMatch(/already used/);
    const short = await loginLink('alice', '--ttl', '2s');
    await sleep(3000);
    const late = await (await newContext()).newPage();
    expect((await late.goto(short.body.url))?.status()).toBe(403);
    expect(await late.textContent('body')).toMatch(/has expired/);
  });

  it('GET /me: who she is, her limits, GPU-hours used and left, her sessions; the OpenAPI document names it', async () => {
    const {cookie} = await openAsAlice();
    const me = await curl('GET', '/me', cookie);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      kind: 'user',
      user: 'alice',
      defaults: {gpu: '1c.2g.10gb'},
      limits: {max_sessions: 2, max_ttl_minutes: 180, gpu_hour_budget: '40h/7d'},
      gpu_hours: {budget: 40, window: '7d'},
      queued: [],
    });
    expect(me.body.gpu_hours.used).toBeGreaterThanOrEqual(0);
    expect(me.body.gpu_hours.left).toBeCloseTo(40 - me.body.gpu_hours.used, 5);
    expect(me.body.sessions.map((session: Json) => session.session_id)).toEqual([alice.session_id]);
    const document = await curl('GET', '/openapi.json', cookie);
    await SwaggerParser.validate(structuredClone(document.body));
    expect(Object.keys(document.body.paths)).toEqual(expect.arrayContaining(['/me', '/t/{secret}']));
  });
});

describe("the admin's token login", () => {
  it('still sees every session, the GPUs and usage, and can remove', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${API}/`);
    await page.getByLabel('API token').fill(TOKEN);
    await page.getByRole('button', {name: 'Log in'}).click();
    await page.locator('#app').waitFor({state: 'visible'});
    for (const session of [alice, bob])
      await expect
        .poll(() => page.locator(`#sessions tr[data-session="${session.session_id}"]`).count(), {
          timeout: 15_000,
        })
        .toBe(1);
    expect(await page.locator('#me').isVisible()).toBe(false);
    expect(await page.locator('#gpus-section').isVisible()).toBe(true);
    expect(await page.getByRole('button', {name: 'Remove bob'}).count()).toBe(1);
    const cookie = (await context.cookies()).find((one) => one.name === 'sandman_login')!.value;
    expect((await curl('GET', '/me', cookie)).body).toEqual({kind: 'admin'});
    expect((await curl('GET', `/sessions/${bob.session_id}`, cookie)).status).toBe(200);
  });
});
