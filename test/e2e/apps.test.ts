/// <reference lib="dom" />
import {chmod, readFile, writeFile} from 'node:fs/promises';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import type {Browser, BrowserContext, Page} from 'playwright-core';
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest';
import WebSocket from 'ws';

import {launchChromium, SCREENSHOTS} from '../helpers/browser.js';
import {BIN, ROOT, TEST_BASE_IMAGE, TEST_IMAGE} from '../helpers/constants.js';
import {socketActivatedApi, stopActivator} from '../helpers/socket-activated-api.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {wsHandshake} from '../helpers/ws-handshake.js';

/**
 * Apps in sessions (docs/admin/apps.md): an image built with
 * `sandman image build --app jupyter` (Debian's jupyter-notebook on the local base), Jupyter opened
 * from alice's console through the API's proxy in Debian's Chromium (playwright-core), against the
 * API under the real systemd-socket-activate on TCP; who may open it, a removed session's page,
 * the generic port proxy and appPorts, and what counts as activity for the idle reaper.
 */
// Response bodies, read field by field as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The API as configured (no appPorts), and a second one whose appPorts open port 8000. */
const API_PORT = 35_800;
const PORTS_API_PORT = 35_801;
const API = `http://127.0.0.1:${API_PORT}`;
const PORTS_API = `http://127.0.0.1:${PORTS_API_PORT}`;
const TOKEN = 'apps-test-token-0123456789abcdef';
/** Built once per run from the test base; Docker's layer cache makes an unchanged build take seconds. */
const JUPYTER_IMAGE = `${TEST_IMAGE}-jupyter`;
/** idleTimeout for the API (how often it records activity) and the reaps of the idle test. */
const IDLE = {SANDMAN_IDLE_TIMEOUT: '30s'};

let sandbox: Sandbox;
let activators: ResultPromise[] = [];
let browser: Browser;
let tokenFile: string;
const sessions: Record<string, Json> = {};

/** The CLI with the Jupyter image as the configured one. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  sandbox.run(args, {env: {SANDMAN_IMAGE: JUPYTER_IMAGE, ...env}});
const cliJson = (args: string[], env: Record<string, string> = {}) =>
  sandbox.json<Json>(args, {env: {SANDMAN_IMAGE: JUPYTER_IMAGE, ...env}});

async function stateSession(id: string): Promise<Json> {
  const state = JSON.parse(await readFile(sandbox.env.SANDMAN_STATE_FILE!, 'utf8'));
  return state.sessions.find((session: Json) => session.id === id);
}

/** curl: status, final URL, body; with a login cookie or the bearer token, or as nobody. */
async function curl(
  url: string,
  auth: {cookie?: string; bearer?: string} = {},
  extra: string[] = [],
): Promise<{status: number; body: string; seconds: number; location: string}> {
  const args = ['-s', '-o', '-', '-w', '\n%{http_code} %{time_total} %{redirect_url}', ...extra, url];
  if (auth.cookie) args.push('-H', `Cookie: sandman_login=${auth.cookie}`);
  if (auth.bearer) args.push('-H', `Authorization: Bearer ${auth.bearer}`);
  const result = await execa('curl', args, {reject: false});
  const text = String(result.stdout);
  const split = text.lastIndexOf('\n');
  const [status = '0', seconds = '0', location = ''] = text.slice(split + 1).split(' ');
  return {status: Number(status), body: text.slice(0, split), seconds: Number(seconds), location};
}

/** A WebSocket handshake with this cookie from the console's origin: "open" or "refused STATUS". */
function wsOpen(url: string, cookie: string): Promise<string> {
  return wsHandshake(url.replace(/^http/, 'ws'), {cookie: `sandman_login=${cookie}`, origin: API});
}

const contexts: BrowserContext[] = [];
async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({viewport: {width: 1200, height: 800}});
  contexts.push(context);
  return context;
}

/** A fresh browser logged in as USER by her one-time link: her console, and her cookie. */
async function openAs(user: string): Promise<{context: BrowserContext; page: Page; cookie: string}> {
  const link = await cliJson(['user', 'login-link', user]);
  expect(link.exitCode, JSON.stringify(link.body)).toBe(0);
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(link.body.url);
  await page.locator('#app').waitFor({state: 'visible'});
  const cookie = (await context.cookies()).find((one) => one.name === 'sandman_login')!;
  return {context, page, cookie: cookie.value};
}

/** Logs a browser in at the console with the API token (the admin). */
async function openAsAdmin(): Promise<{context: BrowserContext; page: Page}> {
  const context = await newContext();
  const page = await context.newPage();
  await page.goto(`${API}/`);
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', {name: 'Log in'}).click();
  await page.locator('#app').waitFor({state: 'visible'});
  return {context, page};
}

/** Jupyter's notebook page for a new notebook made from its file list ("New" → Python 3). */
async function newNotebook(context: BrowserContext, tree: Page): Promise<Page> {
  await tree.locator('#new-dropdown-button').click();
  const [notebook] = await Promise.all([
    context.waitForEvent('page'),
    tree.locator('#new-menu a', {hasText: /Python 3/}).click(),
  ]);
  await notebook!.waitForLoadState();
  await notebook!.locator('#kernel_indicator_icon.kernel_idle_icon').waitFor({timeout: 60_000});
  return notebook!;
}

/** Types CODE into the notebook's last cell and runs it (Shift+Enter); the cell's output text. */
async function runCell(notebook: Page, code: string): Promise<string> {
  const cells = notebook.locator('.cell.code_cell');
  // Shift+Enter adds a cell below: the one run is found by its place, not as "the last".
  const cell = cells.nth((await cells.count()) - 1);
  await cell.locator('.CodeMirror').click();
  await notebook.keyboard.type(code);
  await notebook.keyboard.press('Shift+Enter');
  const output = cell.locator('.output_subarea');
  await output.first().waitFor({timeout: 30_000});
  return output.first().innerText();
}

function apiEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...sandbox.env,
    SANDMAN_IMAGE: JUPYTER_IMAGE,
    SANDMAN_API_IDLE_TIMEOUT: '5s',
    SANDMAN_API_TOKEN_FILE: tokenFile,
    ...IDLE,
    ...extra,
  };
}

async function waitForApi(url: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await curl(`${url}/healthz`)).status === 200) return;
    await sleep(100);
  }
  throw new Error(`${url} did not answer`);
}

beforeAll(async () => {
  sandbox = createSandbox({portStart: 35_810, portCount: 40, config: {apiPublicUrl: API}});
  const build = await execa(
    'node',
    [BIN, 'image', 'build', '--base', TEST_BASE_IMAGE, '--app', 'jupyter', '--tag', JUPYTER_IMAGE, '--json'],
    {cwd: ROOT, reject: false, env: {SANDMAN_CONFIG: sandbox.env.SANDMAN_CONFIG}, timeout: 900_000},
  );
  expect(build.exitCode, `${build.stdout}\n${build.stderr}`).toBe(0);
  expect(JSON.parse(String(build.stdout))).toMatchObject({image: JUPYTER_IMAGE, apps: ['jupyter']});
  tokenFile = path.join(sandbox.dir, 'api-token');
  await writeFile(tokenFile, TOKEN + '\n');
  await chmod(tokenFile, 0o600);
  for (const user of ['alice', 'bob', 'carol', 'dave']) {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(sandbox.dir, user)]);
    const added = await cli([
      'user',
      'add',
      user,
      '--ssh-key',
      path.join(sandbox.dir, `${user}.pub`),
      '--no-gpu',
    ]);
    expect(added.exitCode, added.stderr).toBe(0);
  }
  for (const user of ['alice', 'bob']) {
    const created = await cliJson(['session', 'create', user, '--ttl', '2h']);
    expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
    sessions[user] = created.body;
  }
  activators = [
    socketActivatedApi(`127.0.0.1:${API_PORT}`, apiEnv()),
    socketActivatedApi(`127.0.0.1:${PORTS_API_PORT}`, apiEnv({SANDMAN_APP_PORTS: '8000'})),
  ];
  await waitForApi(API);
  await waitForApi(PORTS_API);
  browser = await launchChromium();
}, 900_000);

afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});

afterAll(async () => {
  await browser?.close();
  for (const activator of activators) await stopActivator(activator);
  if (sandbox) {
    await sandbox.run(['session', 'rm', '--all', '--yes']);
    await sandbox.cleanup();
  }
});

describe('sandman image build --app', () => {
  it('code-server cannot come from the base mirror: exit 2 saying why; an unknown app is exit 2', async () => {
    const codeServer = await execa(
      'node',
      [BIN, 'image', 'build', '--app', 'code-server', '--tag', 'sandman-test/x:y'],
      {
        reject: false,
        env: {SANDMAN_CONFIG: sandbox.env.SANDMAN_CONFIG},
      },
    );
    expect(codeServer.exitCode).toBe(2);
    expect(codeServer.stderr).toMatch(
      /cannot build --app code-server: code-server is not a Debian or Ubuntu package/,
    );
    const unknown = await execa(
      'node',
      [BIN, 'image', 'build', '--app', 'rstudio', '--tag', 'sandman-test/x:y'],
      {
        reject: false,
        env: {SANDMAN_CONFIG: sandbox.env.SANDMAN_CONFIG},
      },
    );
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/unknown --app "rstudio": the apps are jupyter/);
  });

  it('labels the image with its apps; GET /sessions/{id}/apps lists them with their URLs', async () => {
    const labels = await execa('docker', [
      'image',
      'inspect',
      JUPYTER_IMAGE,
      '--format',
      '{{json .Config.Labels}}',
    ]);
    expect(JSON.parse(String(labels.stdout))).toMatchObject({'io.sandman.apps': 'jupyter'});
    const plain = await execa('docker', [
      'image',
      'inspect',
      TEST_IMAGE,
      '--format',
      '{{json .Config.Labels}}',
    ]);
    expect(JSON.parse(String(plain.stdout))['io.sandman.apps']).toBe('');
    const {cookie} = await openAs('alice');
    const id = sessions.alice.session_id as string;
    const listed = await curl(`${API}/sessions/${id}/apps`, {cookie});
    expect(listed.status).toBe(200);
    expect(JSON.parse(listed.body)).toEqual({
      session_id: id,
      status: 'running',
      apps: [{name: 'jupyter', title: 'Jupyter', url: `${API}/s/${id}/apps/jupyter/`}],
    });
    // bob's session's apps are not hers to list.
    expect((await curl(`${API}/sessions/${sessions.bob.session_id}/apps`, {cookie})).status).toBe(403);
  });
});

describe('Jupyter through the proxy', () => {
  it('alice opens Jupyter from her console, runs 1+1 in a new notebook, saves it: the file is in her home on the host', async () => {
    const {context, page} = await openAs('alice');
    const id = sessions.alice.session_id as string;
    const open = page.getByRole('link', {name: 'Open Jupyter alice'});
    await open.waitFor({timeout: 15_000});
    expect(await open.getAttribute('href')).toBe(`/s/${id}/apps/jupyter/`);
    await page.screenshot({path: path.join(SCREENSHOTS, 'console-apps.png')});
    const [tree] = await Promise.all([context.waitForEvent('page'), open.click()]);
    await tree!.waitForLoadState();
    expect(tree!.url()).toMatch(new RegExp(`^${API}/s/${id}/apps/jupyter/tree`));
    await tree!.locator('#notebook_list').waitFor({timeout: 60_000});
    const notebook = await newNotebook(context, tree!);
    expect(await runCell(notebook, '1+1')).toBe('2');
    expect(await runCell(notebook, 'import os; os.getuid(), os.getcwd()')).toBe(
      `(${(await stateSession(id)).uid}, '/home/alice')`,
    );
    // The notebook's file exists from "New" on (empty): saving writes the cells and their outputs.
    const file = path.join(sandbox.workspaceRoot, 'alice', 'Untitled.ipynb');
    const savedCell = async () =>
      existsSync(file)
        ? (JSON.parse(await readFile(file, 'utf8')).cells as Json[]).find(
            (one) => [one.source].flat().join('') === '1+1',
          )
        : undefined;
    expect(await savedCell()).toBeUndefined();
    await notebook.getByTitle('Save and Checkpoint').click();
    await expect.poll(savedCell, {timeout: 30_000}).toBeDefined();
    expect((await savedCell()).outputs[0].data['text/plain']).toEqual(['2']);
    await notebook.screenshot({path: path.join(SCREENSHOTS, 'jupyter.png')});
  });

  it("bob's login gets 403 on alice's app URL and its WebSockets; anonymous gets the login page; the admin's token gets in, the admin's console login does not", async () => {
    const id = sessions.alice.session_id as string;
    const url = `${API}/s/${id}/apps/jupyter/tree`;
    const {page, cookie} = await openAs('bob');
    const answer = await page.goto(url);
    expect(answer?.status()).toBe(403);
    expect(await page.textContent('body')).toMatch(
      `Session ${id} is not yours: only its user and the admin open its apps.`,
    );
    expect((await curl(`${API}/s/${id}/apps/jupyter/api/kernels`, {cookie})).status).toBe(403);
    expect(await wsOpen(`${API}/s/${id}/apps/jupyter/api/kernels/x/channels`, cookie)).toBe('refused 403');
    // Anonymous: the console's login page.
    const anonymous = await (await newContext()).newPage();
    await anonymous.goto(url);
    expect(anonymous.url()).toBe(`${API}/`);
    await anonymous.getByLabel('API token').waitFor();
    const bare = await curl(url);
    expect([bare.status, bare.location]).toEqual([303, `${API}/`]);
    // The admin's console login opens no app (its pages would act with the admin's rights)…
    const {page: adminPage} = await openAsAdmin();
    expect((await adminPage.goto(url))?.status()).toBe(403);
    expect(await adminPage.textContent('body')).toMatch("The admin's console login opens no app");
    // …the admin's token (a script's) opens it.
    const admin = await curl(`${API}/s/${id}/apps/jupyter/api/status`, {bearer: TOKEN});
    expect(admin.status).toBe(200);
    expect(JSON.parse(admin.body)).toHaveProperty('kernels');
    // The app's own port answers only with the token sandman's proxy adds.
    const address = await containerAddress(id);
    const direct = await execa(
      'curl',
      [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `http://${address}:8888/s/${id}/apps/jupyter/api/contents`,
      ],
      {reject: false},
    );
    expect(String(direct.stdout)).toBe('403');
  });
});

/** A session container's address on the sessions' network. */
async function containerAddress(id: string): Promise<string> {
  const inspect = await execa('docker', [
    'inspect',
    `sandman-${(await stateSession(id)).user}-${id}`,
    '--format',
    `{{(index .NetworkSettings.Networks "${sandbox.network}").IPAddress}}`,
  ]);
  return String(inspect.stdout).trim();
}

describe('a stopped or removed session', () => {
  it('answers a clear 404 page within 2 s, not a hang; an app that ended, or a session started again, opens again', async () => {
    const created = await cliJson(['session', 'create', 'carol', '--ttl', '1h']);
    expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
    const id = created.body.session_id as string;
    const url = `${API}/s/${id}/apps/jupyter/tree`;
    expect((await curl(`${API}/s/${id}/apps/jupyter/api/status`, {bearer: TOKEN})).status).toBe(200);
    const {page} = await openAs('carol');
    expect((await page.goto(url))?.status()).toBe(200);
    // carol ends Jupyter herself: the next page (from the same API process) starts it anew.
    const killed = await execa(
      'docker',
      ['exec', '-u', 'carol', `sandman-carol-${id}`, 'pkill', '-f', 'jupyter-notebook'],
      {
        reject: false,
      },
    );
    expect(killed.exitCode, String(killed.stderr)).toBe(0);
    const address = await containerAddress(id);
    await expect
      .poll(
        async () =>
          (await execa('curl', ['-s', '-o', '/dev/null', `http://${address}:8888/`], {reject: false}))
            .exitCode,
        {
          timeout: 10_000,
        },
      )
      .toBe(7);
    expect((await page.goto(url))?.status()).toBe(200);
    await page.locator('#notebook_list').waitFor({timeout: 30_000});
    expect((await cli(['session', 'stop', id])).exitCode).toBe(0);
    const stopped = await curl(url, {bearer: TOKEN});
    expect(stopped.status).toBe(404);
    expect(stopped.seconds).toBeLessThan(2);
    expect(stopped.body).toContain(`Session ${id} is stopped: start it again`);
    // Started again: the same URL opens Jupyter (started anew in the session) at once.
    expect((await cli(['session', 'start', id])).exitCode).toBe(0);
    expect((await page.goto(url))?.status()).toBe(200);
    await page.locator('#notebook_list').waitFor({timeout: 30_000});
    expect((await cli(['session', 'rm', id, '--yes'])).exitCode).toBe(0);
    const started = Date.now();
    const removed = await page.goto(url);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(removed?.status()).toBe(404);
    expect(await page.textContent('body')).toContain(
      `There is no session ${id}: it was removed, or never was.`,
    );
  });
});

describe('the port proxy', () => {
  it('a python3 -m http.server 8000 started by alice is reachable at …/port/8000/ only where appPorts allows 8000', async () => {
    const id = sessions.alice.session_id as string;
    await writeFile(path.join(sandbox.workspaceRoot, 'alice', 'served-by-alice.txt'), 'hello\n');
    // As alice (her uid, in her home), as she would from her shell.
    const started = await execa(
      'docker',
      [
        'exec',
        '-d',
        '-u',
        'alice',
        '-w',
        '/home/alice',
        `sandman-alice-${id}`,
        'python3',
        '-m',
        'http.server',
        '8000',
      ],
      {reject: false},
    );
    expect(started.exitCode, String(started.stderr)).toBe(0);
    const {cookie} = await openAs('alice');
    const url = (api: string, port = 8000) => `${api}/s/${id}/port/${port}/`;
    await expect.poll(async () => (await curl(url(PORTS_API), {cookie})).status, {timeout: 20_000}).toBe(200);
    const listing = await curl(url(PORTS_API), {cookie});
    expect(listing.body).toContain('served-by-alice.txt');
    // The prefix is taken off: the server sees its own paths.
    expect((await curl(`${url(PORTS_API)}served-by-alice.txt`, {cookie})).body).toBe('hello\n');
    // Without appPorts (the default) or another port: refused.
    const closed = await curl(url(API), {cookie});
    expect(closed.status).toBe(403);
    expect(closed.body).toContain(
      'Port 8000 is not open to the browser: the admin lists the ports users may serve in appPorts.',
    );
    expect((await curl(url(PORTS_API, 8001), {cookie})).status).toBe(403);
    // bob's login does not reach it.
    const bob = await openAs('bob');
    expect((await curl(url(PORTS_API), {cookie: bob.cookie})).status).toBe(403);
  });
});

describe('activity through the proxy', () => {
  it('a session whose only activity is an open, untouched Jupyter tab is idle after idleTimeout; one whose notebook runs cells is not', async () => {
    const created = await cliJson(['session', 'create', 'dave', '--ttl', '1h']);
    expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
    const idle = created.body.session_id as string;
    const busy = sessions.bob.session_id as string;
    const notebooks: Record<string, Page> = {};
    // Each session's file list and a notebook stay open in its user's browser.
    for (const [id, user] of [
      [idle, 'dave'],
      [busy, 'bob'],
    ] as const) {
      const {context} = await openAs(user);
      const page = await context.newPage();
      await page.goto(`${API}/s/${id}/apps/jupyter/tree`);
      await page.locator('#notebook_list').waitFor({timeout: 60_000});
      notebooks[id] = await newNotebook(context, page);
      expect(await runCell(notebooks[id], '1+1')).toBe('2');
    }
    // The idle tab polls the kernels' state in the background, as JupyterLab's pages do: that is no use.
    await notebooks[idle]!.evaluate((base) => {
      setInterval(() => void fetch(`${base}api/kernels`), 2000);
    }, `/s/${idle}/apps/jupyter/`);
    // The first reap sets the containers' CPU baseline (Jupyter's start-up is behind it).
    await sleep(3000);
    const baseline = await cliJson(['reap'], IDLE);
    expect(baseline.body.items).toEqual([]);
    // 40 s (over idleTimeout, 30 s): one notebook runs a cell every few seconds, the other is left open.
    const until = Date.now() + 40_000;
    while (Date.now() < until) {
      expect(await runCell(notebooks[busy]!, '1+1')).toBe('2');
      await sleep(3000);
    }
    const report = await cliJson(['reap'], IDLE);
    expect(report.exitCode, JSON.stringify(report.body)).toBe(0);
    // (alice's session, untouched meanwhile, is idle too.)
    const stops = report.body.items.map((item: Json) => [item.session_id, item.action, item.reason]);
    expect(stops).toContainEqual([idle, 'stop-session', 'idle']);
    expect(stops.filter(([id]: string[]) => id === busy)).toEqual([]);
    expect((await stateSession(idle)).status).toBe('stopped');
    const kept = await stateSession(busy);
    expect(kept.status).toBe('running');
    expect(kept.last_active_reason).toBe('app');
    expect(Date.now() - Date.parse(kept.last_active_at)).toBeLessThan(15_000);
  }, 240_000);

  it('the API process lives while a proxied WebSocket is open, and exits apiIdleTimeout (5 s) after it closes', async () => {
    // bob's session: the one the idle reap kept.
    const id = sessions.bob.session_id as string;
    const base = `${PORTS_API}/s/${id}/apps/jupyter`;
    const kernel = await curl(`${base}/api/kernels`, {bearer: TOKEN}, [
      '-X',
      'POST',
      '-H',
      `Origin: ${PORTS_API}`,
    ]);
    expect(kernel.status, kernel.body).toBe(201);
    const socket = new WebSocket(
      `${base.replace(/^http/, 'ws')}/api/kernels/${JSON.parse(kernel.body).id}/channels`,
      {
        headers: {authorization: `Bearer ${TOKEN}`, origin: PORTS_API},
      },
    );
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    const api = await apiProcess(activators[1]!);
    // Twice apiIdleTimeout with no request: the same process still serves.
    await sleep(10_000);
    expect(await apiProcess(activators[1]!)).toBe(api);
    socket.close();
    await expect.poll(() => processAlive(api), {timeout: 15_000, interval: 500}).toBe(false);
  }, 60_000);
});

/** The running `sandman api` under an activator: the loop's child. */
async function apiProcess(activator: ResultPromise): Promise<number> {
  const {stdout} = await execa('pgrep', ['-P', String(activator.pid)]);
  return Number(String(stdout).trim().split('\n')[0]);
}

async function processAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
