/// <reference lib="dom" />
import {readFile, writeFile} from 'node:fs/promises';
import {createServer, type Server} from 'node:http';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import type {Browser} from 'playwright-core';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {launchChromium, SCREENSHOTS} from '../helpers/browser.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {GatewayUnderTest, gatewaySsh} from '../helpers/gateway.js';
import {socketActivatedApi, stopActivator} from '../helpers/socket-activated-api.js';
import {markedExample, runExample} from '../helpers/doc-examples.js';
import {networkGateway, startSelfServe} from '../helpers/self-serve-listener.js';
import {addUsersWithKeys} from '../helpers/user-keys.js';
import {createSandbox, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

/**
 * Batch jobs from inside a session (docs/admin/sessions.md "The in-session command", "Batch
 * jobs"): alice's `sandman job …` in her real session over OpenSSH (her session's port, and the
 * gateway as from her laptop), answered by `sandman self-serve` under systemd-socket-activate; her
 * jobs over the HTTP API with a user login (docs/admin/console-and-sign-in.md "User logins") and in the console (Chromium);
 * a job's end notice at a real HTTP webhook receiver (docs/admin/notifications-and-idleness.md "Notifications").
 */
// Port block 36_980-36_999: sessions 36_980-36_989, then the listeners.
const SELF_PORT = 36_990;
const GATEWAY_PORT = 36_991;
const API_PORT = 36_992;
const WEBHOOK_PORT = 36_993;
const API = `http://127.0.0.1:${API_PORT}`;

// Response bodies, read field by field as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let sandbox: Sandbox;
let listener: ResultPromise | undefined;
let api: ResultPromise | undefined;
let gateway: GatewayUnderTest;
let hooks: Server;
let browser: Browser | undefined;
const received: Array<{path: string; body: Json}> = [];
const listenerOutput: string[] = [];
let keys: string;
let knownHosts: string;
let aliceSession: Json;
let bobJob: string;
let aliceJob: string;
const key = (name: string) => path.join(keys, name);

/** A command in alice's session, through its own published port. */
const inSession = async (command: string) => {
  const result = await execa(
    'ssh',
    [
      ...strictHostKeyOptions(knownHosts),
      '-o',
      'LogLevel=ERROR',
      '-i',
      key('alice'),
      '-p',
      String(aliceSession.ssh_port),
      'alice@127.0.0.1',
      command,
    ],
    {reject: false, stdin: 'ignore', timeout: 120_000},
  );
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)};
};
const jobRecord = async (id: string) =>
  (await readState(sandbox.stateFile)).jobs?.find((job) => job.id === id);
const auditLines = async () =>
  (await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as {actor: string; action: string; job?: string; result: string});

/** curl against the TCP API with a login cookie, from the console's origin; status and parsed body. */
async function curl(method: string, url: string, cookie: string, body?: unknown) {
  const args = ['-s', '-m', '30', '-o', '-', '-w', '\n%{http_code}', '-X', method, `${API}${url}`];
  args.push('-H', `Cookie: sandman_login=${cookie}`, '-H', `Origin: ${API}`);
  if (body !== undefined) args.push('-H', 'content-type: application/json', '-d', JSON.stringify(body));
  const text = String((await execa('curl', args, {reject: false})).stdout);
  const split = text.lastIndexOf('\n');
  let parsed: Json = text.slice(0, split);
  try {
    parsed = JSON.parse(parsed);
  } catch {
    // not JSON
  }
  return {status: Number(text.slice(split + 1)), body: parsed};
}

/** `sandman user login-link alice`, opened once by curl: her login cookie. */
async function aliceCookie(): Promise<string> {
  const link = await sandbox.json<Json>(['user', 'login-link', 'alice']);
  expect(link.exitCode, JSON.stringify(link.body)).toBe(0);
  const opened = await execa('curl', ['-s', '-m', '30', '-o', '/dev/null', '-D', '-', link.body.url], {
    reject: false,
  });
  const cookie = /sandman_login=([^;\s]+)/.exec(String(opened.stdout))?.[1];
  expect(cookie, String(opened.stdout)).toBeDefined();
  return cookie!;
}

beforeAll(async () => {
  sandbox = createSandbox({
    portStart: 36_980,
    portCount: 10,
    config: {selfServicePort: SELF_PORT, apiPublicUrl: API},
  });
  Object.assign(sandbox.env, fakeGpuEnv(sandbox.dir, 'a100-mig-r580'), {SANDMAN_API_IDLE_TIMEOUT: '10m'});
  hooks = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      if (request.method === 'POST') received.push({path: request.url!, body: JSON.parse(text)});
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => hooks.listen(WEBHOOK_PORT, '127.0.0.1', resolve));
  ({keys, knownHosts} = await addUsersWithKeys(sandbox, [
    ['alice', ['--webhook', `http://127.0.0.1:${WEBHOOK_PORT}/alice`]],
    ['bob', []],
  ]));
  const made = await sandbox.json<Json>(['session', 'create', 'alice', '--no-gpu', '--ttl', '1h']);
  expect(made.exitCode, JSON.stringify(made.body) + made.stderr).toBe(0);
  aliceSession = made.body;
  const bobs = await sandbox.run([
    'job',
    'submit',
    'bob',
    '--no-gpu',
    '--name',
    'sweep',
    '--',
    'sleep',
    '600',
  ]);
  expect(bobs.exitCode, bobs.stderr).toBe(0);
  bobJob = bobs.stdout.trim();
  const gatewayAddress = await networkGateway(sandbox);
  listener = (await startSelfServe(sandbox, gatewayAddress, SELF_PORT, listenerOutput)).listener;
  const tokenFile = path.join(sandbox.dir, 'api-token');
  await writeFile(tokenFile, 'jobs-self-test-token-0123456789\n', {mode: 0o600});
  api = socketActivatedApi(`127.0.0.1:${API_PORT}`, {
    ...sandbox.env,
    SANDMAN_API_IDLE_TIMEOUT: '30s',
    SANDMAN_API_TOKEN_FILE: tokenFile,
  });
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await execa(
      'curl',
      ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', `${API}/healthz`],
      {
        reject: false,
      },
    );
    if (String(up.stdout) === '200') break;
    await sleep(100);
  }
  gateway = await GatewayUnderTest.start(sandbox, GATEWAY_PORT);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  listener?.kill('SIGTERM');
  await listener;
  if (api) await stopActivator(api);
  await gateway?.stop();
  hooks?.closeAllConnections();
  hooks?.close();
  await sandbox?.run(['job', 'cancel', bobJob]);
  await sandbox?.run(['session', 'rm', '--all', '--yes']);
  await sandbox?.cleanup();
});

describe('sandman job inside her session', () => {
  it('submit --wait prints its output and exits with its code; ls shows it; the audit names her session', async () => {
    const waited = await inSession(`sandman job submit --no-gpu --wait -- sh -c 'echo hi; exit 3'`);
    expect(waited.exitCode, waited.stderr + listenerOutput.join('')).toBe(3);
    expect(waited.stdout).toBe('hi');
    const listed = await inSession('sandman job ls --all --json');
    expect(listed.exitCode, listed.stderr).toBe(0);
    const jobs = JSON.parse(listed.stdout) as Json[];
    expect(jobs.map((job) => [job.user, job.state, job.exit_code, job.command])).toEqual([
      ['alice', 'exited', 3, ['sh', '-c', 'echo hi; exit 3']],
    ]);
    aliceJob = jobs[0].job_id;
    expect(await auditLines()).toContainEqual(
      expect.objectContaining({
        action: 'job-submit',
        job: aliceJob,
        actor: `alice (session ${aliceSession.session_id})`,
      }),
    );
  });

  it("README's example, as written, in her session", async () => {
    const lines = (await markedExample('in-session-jobs')).lines.filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(3);
    await runExample(lines, inSession);
  });

  it('from her laptop through the gateway: ssh … sandman job submit runs as her', async () => {
    const sent = await gatewaySsh(
      GATEWAY_PORT,
      'alice',
      'sandman job submit --no-gpu --name laptop -- true',
      {
        key: key('alice'),
        knownHosts,
      },
    );
    expect(sent.exitCode, sent.stderr + gateway.log()).toBe(0);
    const record = await jobRecord(sent.stdout.trim().split('\n')[0]!);
    expect(record).toMatchObject({user: 'alice', name: 'laptop'});
  });

  it("bob's job is not hers: show, logs and cancel by its ID or name are exit 3, and it keeps running", async () => {
    for (const command of [`show ${bobJob}`, `logs ${bobJob}`, `cancel ${bobJob}`, 'cancel sweep']) {
      const tried = await inSession(`sandman job ${command}`);
      expect(tried.exitCode, tried.stdout + tried.stderr).toBe(3);
      expect(tried.stderr).toMatch(/no job of yours is/);
    }
    expect((await jobRecord(bobJob))?.state).toBe('running');
  });
});

describe('her jobs over the API with a user login, and in the console', () => {
  it('sandman web in her session prints a one-time link that logs a browser in as her', async () => {
    const web = await inSession('sandman web');
    expect(web.exitCode, web.stderr).toBe(0);
    const url = new RegExp(`${API}/t/\\S+`).exec(web.stdout)?.[0];
    expect(url, web.stdout).toBeDefined();
    const opened = await execa('curl', ['-s', '-m', '30', '-o', '/dev/null', '-D', '-', url!], {
      reject: false,
    });
    const cookie = /sandman_login=([^;\s]+)/.exec(String(opened.stdout))?.[1];
    expect(cookie, String(opened.stdout)).toBeDefined();
    const me = await curl('GET', '/me', cookie!);
    expect([me.status, me.body.user]).toEqual([200, 'alice']);
    // Once only.
    const again = await execa('curl', ['-s', '-m', '30', '-o', '/dev/null', '-w', '%{http_code}', url!], {
      reject: false,
    });
    expect(String(again.stdout)).toBe('403');
  });

  it("lists and reads hers; bob's is 403 and unchanged; GET /me has her jobs", async () => {
    const cookie = await aliceCookie();
    const listed = await curl('GET', '/jobs?all=true', cookie);
    expect(listed.status, JSON.stringify(listed.body)).toBe(200);
    expect(new Set(listed.body.map((job: Json) => job.user))).toEqual(new Set(['alice']));
    const logs = await curl('GET', `/jobs/${aliceJob}/logs`, cookie);
    expect([logs.status, logs.body.logs]).toEqual([200, 'hi\n']);
    for (const [method, url] of [
      ['GET', `/jobs/${bobJob}`],
      ['GET', `/jobs/${bobJob}/logs`],
      ['DELETE', `/jobs/${bobJob}`],
      ['DELETE', '/jobs/sweep'],
    ] as const) {
      const refused = await curl(method, url, cookie);
      expect(refused.status, `${method} ${url}`).toBe(403);
      expect(JSON.stringify(refused.body)).toContain('no job of yours');
    }
    const forBob = await curl('POST', '/jobs', cookie, {user_id: 'bob', command: ['true'], no_gpu: true});
    expect(forBob.status).toBe(403);
    expect((await jobRecord(bobJob))?.state).toBe('running');
    const me = await curl('GET', '/me', cookie);
    expect(me.body.jobs.map((job: Json) => job.job_id)).toContain(aliceJob);
  });

  it('the console lists her jobs with a log view', async () => {
    browser = await launchChromium();
    const link = await sandbox.json<Json>(['user', 'login-link', 'alice']);
    const page = await (await browser.newContext({viewport: {width: 1100, height: 900}})).newPage();
    await page.goto(link.body.url);
    const row = page.locator(`#jobs tr[data-job="${aliceJob}"]`);
    await row.waitFor({state: 'visible', timeout: 15_000});
    expect(await row.innerText()).toMatch(
      /alice\s+exited\s+sh -c echo hi; exit 3\s+none\s+.+UTC\s+.+UTC\s+3\s+Log/,
    );
    expect(await page.locator(`#jobs tr[data-job="${bobJob}"]`).count()).toBe(0);
    await row.getByRole('button', {name: 'Log'}).click();
    await expect.poll(() => page.locator('#job-log pre').innerText()).toBe('hi\n');
    await page.screenshot({path: path.join(SCREENSHOTS, 'console-user-jobs.png'), fullPage: true});
  });
});

describe("a job's end notice", () => {
  it('reaches her webhook exactly once over several reaps', async () => {
    for (let reap = 0; reap < 3; reap++) {
      const reaped = await sandbox.run(['reap']);
      expect(reaped.exitCode, reaped.stderr).toBe(0);
    }
    const ends = received.filter((hook) => hook.body.job === aliceJob);
    expect(ends.map((hook) => [hook.path, hook.body.event, hook.body.data.exit_code])).toEqual([
      ['/alice', 'job-finished', 3],
    ]);
    expect(ends[0]!.body.text).toMatch(
      new RegExp(`^sandman: Job ${aliceJob} \\(alice: sh -c echo hi; exit 3\\) finished with exit code 3`),
    );
  });
});
