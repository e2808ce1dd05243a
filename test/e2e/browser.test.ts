/// <reference lib="dom" />
import {chmod, readFile, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import type {Browser, BrowserContext, Page} from 'playwright-core';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';

import {launchChromium, SCREENSHOTS} from '../helpers/browser.js';
import {BIN} from '../helpers/constants.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {socketActivatedApi} from '../helpers/socket-activated-api.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';
import {wsHandshake} from '../helpers/ws-handshake.js';

/**
 * The browser side (docs/admin/console-and-sign-in.md "In the browser") in Debian's Chromium driven by playwright-core, against
 * the API under the real systemd-socket-activate on TCP, as the .socket unit runs it: the original
 * design's fetch() from another listed origin, CSRF and CORS refusals, the web console on the
 * replayed A100, the terminal (xterm.js over a WebSocket bridged to the session's sshd), one-time
 * terminal links, and hostile clients.
 */
// Response bodies, read field by field as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const API_PORT = 36_100;
const PAGE_PORT = 36_101;
const OTHER_PORT = 36_102;
const API = `http://127.0.0.1:${API_PORT}`;
const PAGE = `http://127.0.0.1:${PAGE_PORT}`;
const OTHER = `http://127.0.0.1:${OTHER_PORT}`;
const TOKEN = 'browser-test-token-0123456789';

let sandbox: Sandbox;
let gpu: Record<string, string>;
let activator: ResultPromise;
let browser: Browser;
const pages: Server[] = [];

/** A page server for an origin: every path answers the same small HTML page. */
function pageServer(port: number, html: string): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, {'content-type': 'text/html'});
    response.end(html);
  });
  pages.push(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function stateSessions(): Promise<Json[]> {
  return JSON.parse(await readFile(sandbox.env.SANDMAN_STATE_FILE!, 'utf8')).sessions;
}

/** curl against the TCP API; status, headers and parsed body. */
async function curl(args: string[]): Promise<{status: number; headers: string; body: Json}> {
  const result = await execa('curl', ['-s', '-D', '-', ...args], {reject: false});
  const text = String(result.stdout);
  const split = text.indexOf('\r\n\r\n');
  const body = split >= 0 ? text.slice(split + 4) : '';
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // not JSON
  }
  // execa drops the last line end: a bodiless answer has no blank line left after its headers.
  return {
    status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0),
    headers: split >= 0 ? text.slice(0, split) : text,
    body: parsed,
  };
}

/** Logs a browser context in at the console with the API token (the login form). */
async function logIn(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  if (process.env.DEBUG_BROWSER) {
    page.on('console', (message) => console.log('console:', message.text()));
    page.on('response', async (response) =>
      console.log(
        'response:',
        response.request().method(),
        response.url(),
        response.status(),
        response.status() >= 500 ? await response.text() : '',
      ),
    );
  }
  await page.goto(`${API}/`);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', {name: 'Log in'}).click();
  await page.locator('#app').waitFor({state: 'visible'});
  return page;
}

/** The text xterm.js shows (its DOM rows). */
const screenText = (page: Page) => page.locator('.xterm-rows').innerText();

async function typeAndSee(page: Page, command: string, expected: RegExp): Promise<string> {
  await page.locator('.xterm').click();
  await page.keyboard.type(`${command}\n`);
  let text = '';
  for (let attempt = 0; attempt < 60 && !expected.test(text); attempt++) {
    await sleep(250);
    text = await screenText(page);
  }
  return text;
}

beforeAll(async () => {
  sandbox = createSandbox({
    portStart: 36_110,
    portCount: 10,
    // The fetch() asks for no GPU: it gets the default profile, of which the replayed A100 has one free.
    config: {apiAllowedOrigins: [PAGE], apiPublicUrl: API, defaultProfile: '4g.20gb'},
  });
  gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
  const tokenFile = path.join(sandbox.dir, 'api-token');
  await writeFile(tokenFile, TOKEN + '\n');
  await chmod(tokenFile, 0o600);
  const env = {...sandbox.env, ...gpu, SANDMAN_API_IDLE_TIMEOUT: '3s', SANDMAN_API_TOKEN_FILE: tokenFile};
  activator = socketActivatedApi(`127.0.0.1:${API_PORT}`, env);
  await pageServer(PAGE_PORT, '<!doctype html><title>portal</title><p>A portal on a listed origin</p>');
  await pageServer(
    OTHER_PORT,
    `<!doctype html><title>elsewhere</title>
     <form id="forged" method="post" action="${API}/sessions" enctype="text/plain">
       <input name='{"user_id":"forged","ttl_minutes":60,"x":"' value='"}'><button>go</button>
     </form>`,
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await curl([`${API}/healthz`, '-H', `Authorization: Bearer ${TOKEN}`])).status === 200) break;
    await sleep(100);
  }
  browser = await launchChromium();
});

/**
 * A browser context that is closed after its test even when the test fails: a page left open
 * (a console that polls, an error page Chromium reloads by itself) would keep the API busy for
 * the next test.
 */
const contexts: BrowserContext[] = [];
async function newContext(options?: Parameters<Browser['newContext']>[0]): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  contexts.push(context);
  return context;
}
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  for (const server of pages) server.close();
  activator?.kill('SIGKILL');
  await execa('pkill', ['-f', `${BIN} api`], {reject: false});
  await sandbox.run(['session', 'rm', '--all', '--yes'], {env: gpu});
  await sandbox.cleanup();
});

describe("the original design's fetch()", () => {
  it('works as written from a listed origin after a cookie login: 201 and a session that answers SSH', async () => {
    const context = await newContext();
    await logIn(context);
    const page = await context.newPage();
    await page.goto(`${PAGE}/`);
    // The original README's JavaScript, as written there (host and port filled in).
    const result = await page.evaluate(async (api) => {
      const response = await fetch(`${api}/sessions`, {
        method: 'POST',
        headers: {'Content-Type': 'application/json'},
        credentials: 'include',
        body: JSON.stringify({user_id: 'web1', ttl_minutes: 60}),
      });
      return {status: response.status, body: (await response.json()) as Json};
    }, API);
    expect(result.status, JSON.stringify(result.body)).toBe(201);
    const keyFile = path.join(sandbox.dir, 'web1.key');
    await writeFile(keyFile, result.body.ssh_private_key);
    await chmod(keyFile, 0o600);
    const login = await sshRun(keyFile, result.body.ssh_port, 'web1', 'id -un');
    expect(login.stdout).toBe('web1');
    // The preflight: the origin (never *), credentials, and a day's cache.
    const preflight = await curl([
      '-X',
      'OPTIONS',
      `${API}/sessions`,
      '-H',
      `Origin: ${PAGE}`,
      '-H',
      'Access-Control-Request-Method: POST',
      '-H',
      'Access-Control-Request-Headers: content-type',
    ]);
    expect(preflight.headers).toMatch(new RegExp(`access-control-allow-origin: ${PAGE}\\r?$`, 'im'));
    expect(preflight.headers).toMatch(/access-control-allow-credentials: true/i);
    expect(preflight.headers).toMatch(/access-control-max-age: 86400/i);
    expect(preflight.headers).toMatch(/vary: Origin/i);
  });

  it('from an unlisted origin: the browser blocks it and nothing is made; a cross-site form post with the cookie is 403', async () => {
    const context = await newContext();
    await logIn(context);
    const stateText = () => readFile(sandbox.env.SANDMAN_STATE_FILE!, 'utf8').catch(() => 'no state file');
    const before = await stateText();
    const page = await context.newPage();
    await page.goto(`${OTHER}/`);
    const blocked = await page.evaluate(async (api) => {
      try {
        const response = await fetch(`${api}/sessions`, {
          method: 'POST',
          headers: {'Content-Type': 'application/json'},
          credentials: 'include',
          body: JSON.stringify({user_id: 'web2', ttl_minutes: 60}),
        });
        return `status ${response.status}`;
      } catch (error) {
        return String(error);
      }
    }, API);
    expect(blocked).toMatch(/TypeError: Failed to fetch/);
    // A form needs no preflight: the cookie goes with it (same site), and sandman refuses it.
    const [response] = await Promise.all([page.waitForNavigation(), page.locator('#forged button').click()]);
    expect(response?.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(/may not use the login cookie/);
    expect(await stateText()).toBe(before);
  });
});

describe('the web console', () => {
  it('logs in; creates a session with its form; shows it, its held slice in its colour and the free ones; extend and remove work', async () => {
    // A US browser far from UTC: the console still writes times as the CLI does, in UTC.
    const context = await newContext({
      viewport: {width: 1200, height: 900},
      locale: 'en-US',
      timezoneId: 'America/Los_Angeles',
    });
    const page = await logIn(context);
    // The user field checks the one user-name rule in the browser (a pattern Chromium compiles).
    const userField = page.getByLabel('User', {exact: true});
    const validity = () =>
      userField.evaluate((input: HTMLInputElement) => ({
        valid: input.validity.valid,
        mismatch: input.validity.patternMismatch,
      }));
    for (const bad of ['Carol', '1carol', 'car ol', 'c'.repeat(33)]) {
      await userField.fill(bad);
      expect(await validity(), bad).toEqual({valid: false, mismatch: true});
    }
    await userField.fill('carol-2_x');
    expect(await validity()).toEqual({valid: true, mismatch: false});
    // The create form: user, a MIG profile (from GET /gpus/profiles), TTL.
    await userField.fill('carol');
    await page.getByRole('combobox', {name: /^GPU/}).selectOption({label: 'MIG 1c.2g.10gb'});
    await page.getByLabel('TTL (minutes)').fill('120');
    await page.getByRole('button', {name: 'Create'}).click();
    await expect.poll(() => page.locator('#status').innerText(), {timeout: 30_000}).toMatch(/carol: done/);
    const created = await sandbox.json<Json>(['session', 'show', 'carol'], {env: gpu});
    expect(created.body).toMatchObject({mig_profile: '1c.2g.10gb', status: 'running'});
    expect(Date.parse(created.body.expires_at) - Date.parse(created.body.created_at)).toBe(120 * 60_000);
    const id = created.body.session_id as string;
    const row = page.locator(`#sessions tr[data-session="${id}"]`);
    await expect.poll(() => row.count(), {timeout: 30_000}).toBe(1);
    expect(await row.innerText()).toMatch(/carol\s+running\s+1c\.2g\.10gb/);
    // As the CLI prints: times in UTC, the ssh command, and the generated key, which logs in.
    const utc = (iso: string) => iso.replace('T', ' ').replace(/:\d\dZ$/, ' UTC');
    expect(await row.locator('.expires').innerText()).toMatch(
      new RegExp(`^${utc(created.body.expires_at)} \\(in 1[12]\\d min\\)$`),
    );
    const shownCreated = await page.locator('#created').innerText();
    expect(shownCreated).toContain(`expires ${utc(created.body.expires_at)}`);
    const command = `ssh -i sandman-carol.key -p ${created.body.ssh_port} carol@${created.body.ssh_host}`;
    expect(await page.locator('#created .ssh-command').innerText()).toBe(command);
    const key = await page.locator('#created .private-key').innerText();
    expect(key).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n[\s\S]+-----END OPENSSH PRIVATE KEY-----\n?$/);
    const keyFile = path.join(sandbox.dir, 'sandman-carol.key');
    await writeFile(keyFile, key.endsWith('\n') ? key : `${key}\n`);
    await chmod(keyFile, 0o600);
    expect((await sshRun(keyFile, created.body.ssh_port, 'carol', 'id -un')).stdout).toBe('carol');
    await page.screenshot({path: path.join(SCREENSHOTS, 'console-created.png'), fullPage: true});
    await page.getByRole('button', {name: 'Hide'}).click();
    // The GPU picture: carol's device in her session's colour (as her row's swatch), the rest free.
    const held = page.locator(`.slice.held[data-session="${id}"]`);
    expect(await held.count()).toBe(1);
    expect(await held.getAttribute('data-uuid')).toBe(created.body.gpu_uuid);
    const swatch = await row.locator('.swatch').evaluate((node) => getComputedStyle(node).backgroundColor);
    expect(await held.evaluate((node) => getComputedStyle(node).backgroundColor)).toBe(swatch);
    const free = await page.locator('.slice.free').count();
    const gpus = (await curl([`${API}/gpus`, '-H', `Authorization: Bearer ${TOKEN}`])).body;
    const instances = gpus.gpus.flatMap((one: Json) => one.mig_instances);
    expect(free).toBe(instances.filter((instance: Json) => !instance.allocated).length);
    expect(free).toBeGreaterThan(0);
    await page.screenshot({path: path.join(SCREENSHOTS, 'console.png'), fullPage: true});
    // Extend: the expiry shown moves an hour on.
    const expiresBefore = await row.locator('.expires').innerText();
    await row.getByRole('button', {name: 'Extend 1 h carol'}).click();
    await expect.poll(() => row.locator('.expires').innerText(), {timeout: 30_000}).not.toBe(expiresBefore);
    const shown = await sandbox.json<Json>(['session', 'show', id], {env: gpu});
    expect(Date.parse(shown.body.expires_at) - Date.parse(created.body.expires_at)).toBe(3_600_000);
    // Remove (after the confirmation): the state and Docker agree.
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', {name: 'Remove carol'}).click();
    await expect.poll(() => row.count(), {timeout: 30_000}).toBe(0);
    expect((await stateSessions()).some((session) => session.id === id)).toBe(false);
    const containers = await execa('docker', [
      'ps',
      '-a',
      '--filter',
      `name=${created.body.container_name ?? id}`,
      '--format',
      '{{.Names}}',
    ]);
    expect(containers.stdout).not.toContain(id);
  });
});

describe('the terminal', () => {
  let session: Json;
  beforeAll(async () => {
    session = (await sandbox.json<Json>(['session', 'create', 'dora', '--no-gpu'], {env: gpu})).body;
  });

  it('opens from the console: id -un shows the user; a resize changes stty size; it is an audit line', async () => {
    const context = await newContext({viewport: {width: 1000, height: 700}});
    const console = await logIn(context);
    const [page] = await Promise.all([
      context.waitForEvent('page'),
      console
        .locator(`#sessions tr[data-session="${session.session_id}"]`)
        .getByRole('button', {name: 'Open terminal dora'})
        .click(),
    ]);
    await page.bringToFront();
    await page.waitForFunction(
      () => (window as unknown as {sandmanTerminal?: {ready: boolean}}).sandmanTerminal?.ready,
    );
    expect(await typeAndSee(page, 'id -un', /^dora$/m)).toMatch(/^dora$/m);
    // A paste, as the browser delivers one (a paste event with the clipboard's text); bash takes
    // it as a bracketed paste, so Enter runs it.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.setData('text/plain', 'echo pasted-$((6*7))');
      document
        .querySelector('.xterm-helper-textarea')!
        .dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
    });
    await page.keyboard.press('Enter');
    await expect.poll(() => screenText(page), {timeout: 15_000}).toMatch(/^pasted-42$/m);
    const sizeBefore = /^(\d+) (\d+)$/m.exec(await typeAndSee(page, 'stty size', /^\d+ \d+$/m));
    await page.setViewportSize({width: 700, height: 450});
    await sleep(500);
    await page.keyboard.type('clear\n');
    await sleep(300);
    const sizeAfter = /^(\d+) (\d+)$/m.exec(await typeAndSee(page, 'stty size', /^\d+ \d+$/m));
    expect(sizeBefore).not.toBeNull();
    expect(sizeAfter).not.toBeNull();
    expect(Number(sizeAfter![2])).toBeLessThan(Number(sizeBefore![2]));
    expect(Number(sizeAfter![1])).toBeLessThan(Number(sizeBefore![1]));
    await page.screenshot({path: path.join(SCREENSHOTS, 'terminal.png')});
    const audit = await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8');
    expect(audit).toMatch(
      new RegExp(
        `"actor":"web:admin:127\\.0\\.0\\.1","action":"terminal-open","session":"${session.session_id}","user":"dora","result":"ok","source":"127\\.0\\.0\\.1"`,
      ),
    );
  });

  it('a one-time link: works once in a fresh browser, a second use is 403, it opens no other session, and it expires', async () => {
    const other = (await sandbox.json<Json>(['session', 'create', 'erik', '--no-gpu'], {env: gpu})).body;
    const made = await sandbox.json<Json>(['session', 'terminal', 'dora'], {env: gpu});
    expect(made.exitCode, JSON.stringify(made.body)).toBe(0);
    expect(made.body.url).toMatch(new RegExp(`^${API}/t/[A-Za-z0-9_-]{40,}$`));
    const fresh = await newContext();
    const page = await fresh.newPage();
    await page.goto(made.body.url);
    expect(page.url()).toBe(`${API}/terminal.html?session=${session.session_id}`);
    await page.waitForFunction(
      () => (window as unknown as {sandmanTerminal?: {ready: boolean}}).sandmanTerminal?.ready,
    );
    expect(await typeAndSee(page, 'id -un', /^dora$/m)).toMatch(/^dora$/m);
    // Its login is for dora's terminal only: not erik's, not the API.
    const cookie = (await fresh.cookies()).find((one) => one.name === 'sandman_login')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    const erik = await wsOpen(`/sessions/${other.session_id}/terminal`, `sandman_login=${cookie.value}`);
    expect(erik).toBe('refused 403');
    const listed = await curl([`${API}/sessions`, '-H', `Cookie: sandman_login=${cookie.value}`]);
    expect(listed.status).toBe(403);
    // The API's door to the same: POST /sessions/{id}/terminal-link, with a bearer token.
    const byApi = await curl([
      '-X',
      'POST',
      `${API}/sessions/${session.session_id}/terminal-link`,
      '-H',
      `Authorization: Bearer ${TOKEN}`,
      '-H',
      'content-type: application/json',
      '-d',
      '{"ttl_minutes": 5}',
    ]);
    expect(byApi.status).toBe(201);
    expect(byApi.body.url).toMatch(new RegExp(`^${API}/t/[A-Za-z0-9_-]{40,}$`));
    expect(Date.parse(byApi.body.expires_at) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    // Used once: a second browser gets 403.
    const second = await newContext();
    const again = await (await second.newPage()).goto(made.body.url);
    expect(again?.status()).toBe(403);
    // Expiry: a link of 2 seconds no longer works after 3.
    const short = await sandbox.json<Json>(['session', 'terminal', 'dora', '--ttl', '2s'], {env: gpu});
    await sleep(3000);
    const late = await (await second.newPage()).goto(short.body.url);
    expect(late?.status()).toBe(403);
  });

  it('hostile: no, tampered, expired or logged-out cookies are 401; 100 bad WebSocket logins are refused; the API still exits when idle', async () => {
    expect((await curl([`${API}/sessions`])).status).toBe(401);
    expect(
      (
        await curl([
          `${API}/sessions`,
          '-H',
          'Cookie: sandman_login=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        ])
      ).status,
    ).toBe(401);
    // A real login, one character changed.
    const login = await curl([
      '-X',
      'POST',
      `${API}/login`,
      '-H',
      'content-type: application/json',
      '-d',
      JSON.stringify({token: TOKEN}),
    ]);
    const value = /sandman_login=([^;]+)/.exec(login.headers)![1]!;
    const tampered = value.slice(0, -1) + (value.endsWith('A') ? 'B' : 'A');
    expect((await curl([`${API}/sessions`, '-H', `Cookie: sandman_login=${tampered}`])).status).toBe(401);
    expect((await curl([`${API}/sessions`, '-H', `Cookie: sandman_login=${value}`])).status).toBe(200);
    // Expired: the login's end, as the server keeps it, put in the past; the cookie is refused.
    const accessFile = path.join(path.dirname(sandbox.env.SANDMAN_STATE_FILE!), 'web-access.json');
    const access = JSON.parse(await readFile(accessFile, 'utf8'));
    const logins = Object.values(access.logins) as Array<{expires_at: string}>;
    const saved = logins.map((login) => login.expires_at);
    for (const login of logins) login.expires_at = '2020-01-01T00:00:00.000Z';
    await writeFile(accessFile, JSON.stringify(access));
    expect((await curl([`${API}/sessions`, '-H', `Cookie: sandman_login=${value}`])).status).toBe(401);
    logins.forEach((login, index) => (login.expires_at = saved[index]!));
    await writeFile(accessFile, JSON.stringify(access));
    expect((await curl([`${API}/sessions`, '-H', `Cookie: sandman_login=${value}`])).status).toBe(200);
    // Logged out: the same cookie no longer works.
    await curl(['-X', 'POST', `${API}/logout`, '-H', `Cookie: sandman_login=${value}`]);
    expect((await curl([`${API}/sessions`, '-H', `Cookie: sandman_login=${value}`])).status).toBe(401);
    const refused = await Promise.all(
      Array.from({length: 100}, (_, index) =>
        wsOpen(`/sessions/${session.session_id}/terminal`, `sandman_login=bad${index}`),
      ),
    );
    expect(new Set(refused)).toEqual(new Set(['refused 401']));
    // Idle: this API's process is gone a few seconds later (apiIdleTimeout 3s). It is the
    // activator loop's child, once systemd-socket-activate has exec'd node; other tests run APIs of their own.
    const apiRunning = async () =>
      (await execa('pgrep', ['-P', String(activator.pid), '-x', 'node'], {reject: false})).exitCode === 0;
    // It served the handshakes just now: it is there, then gone.
    let running = await apiRunning();
    expect(running).toBe(true);
    for (let attempt = 0; attempt < 40 && running; attempt++) {
      await sleep(250);
      running = await apiRunning();
    }
    expect(running).toBe(false);
  });

  it('closes with a message when its session is removed', async () => {
    const context = await newContext();
    const page = await logIn(context);
    await page.goto(`${API}/terminal.html?session=${session.session_id}`);
    await page.waitForFunction(
      () => (window as unknown as {sandmanTerminal?: {ready: boolean}}).sandmanTerminal?.ready,
    );
    expect((await sandbox.run(['session', 'rm', session.session_id, '--yes'], {env: gpu})).exitCode).toBe(0);
    await expect.poll(() => page.locator('#status').innerText(), {timeout: 15_000}).toMatch(/^sandman: /);
    expect(await screenText(page)).toMatch(/\[sandman: .*(ended|closed|exited)/);
  });
});

/** A WebSocket handshake with this cookie from the console's origin: "open" or "refused STATUS". */
function wsOpen(pathname: string, cookie: string): Promise<string> {
  return wsHandshake(`ws://127.0.0.1:${API_PORT}${pathname}`, {cookie, origin: API});
}
