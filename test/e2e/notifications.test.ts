// Notifications (docs/admin/notifications-and-idleness.md "Notifications"): a real SMTP server (Debian's python3-aiosmtpd, writing
// a Maildir) and a real HTTP webhook receiver, both on 127.0.0.1, and the built CLI.
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdirSync} from 'node:fs';
import {readdir, readFile, writeFile} from 'node:fs/promises';
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {connect, createServer as createNetServer, type Server as NetServer, type Socket} from 'node:net';
import path from 'node:path';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import type {ReapReport} from '../../src/reap/reaper.js';
import {BIN} from '../helpers/constants.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

// Port block 36_940-36_979: sessions 36_940-36_959, the SMTP sink, the webhook receiver, and a
// port nothing listens on (an unreachable SMTP server).
const SMTP_PORT = 36_970;
const WEBHOOK_PORT = 36_971;
const DEAD_PORT = 36_972;
/** A second SMTP server that wants a login (AUTH over plain SMTP, as a relay inside a site may). */
const AUTH_PORT = 36_973;
const API_PORT = 36_974;
/** An SMTP server that takes the connection and never says a word. */
const SILENT_PORT = 36_975;
const AUTH_SERVER = `
import signal, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword
def check(server, session, envelope, mechanism, data):
    return AuthResult(success=isinstance(data, LoginPassword) and data.login == b'mailer' and data.password == b's3cret', handled=False)
Controller(Mailbox(sys.argv[2]), hostname='127.0.0.1', port=int(sys.argv[1]), authenticator=check,
           auth_required=True, auth_require_tls=False).start()
signal.pause()
`;
const HOOK = `http://127.0.0.1:${WEBHOOK_PORT}`;

interface Hook {
  path: string;
  body: {event: string; user: string; session: string | null; text: string; at: string; data: object};
}
interface Mail {
  to: string;
  subject: string;
  body: string;
}

let sandbox: Sandbox;
let smtp: ChildProcess;
let authSmtp: ChildProcess;
let authMailDir: string;
let webhooks: Server;
let silent: NetServer;
const silentSockets: Socket[] = [];
const hooks: Hook[] = [];
/** Requests to /hang get no answer; they are kept here until the test ends. */
const hanging: ServerResponse[] = [];
let mailDir: string;

beforeAll(async () => {
  sandbox = createSandbox({
    portStart: 36_940,
    portCount: 20,
    config: {smtpUrl: `smtp://127.0.0.1:${SMTP_PORT}`, notifyWebhook: `${HOOK}/admin`, notifyTimeout: '3s'},
  });
  mailDir = path.join(sandbox.dir, 'mail');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(mailDir, sub), {recursive: true});
  smtp = spawn(
    '/usr/bin/python3',
    ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${SMTP_PORT}`, '-c', 'aiosmtpd.handlers.Mailbox', mailDir],
    {stdio: 'ignore'},
  );
  authMailDir = path.join(sandbox.dir, 'auth-mail');
  for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(authMailDir, sub), {recursive: true});
  authSmtp = spawn('/usr/bin/python3', ['-c', AUTH_SERVER, String(AUTH_PORT), authMailDir], {
    stdio: 'ignore',
  });
  webhooks = createServer((request: IncomingMessage, response: ServerResponse) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      if (request.url === '/hang') {
        hanging.push(response);
        hooks.push({path: request.url, body: JSON.parse(text) as Hook['body']});
        return;
      }
      if (request.method === 'POST') hooks.push({path: request.url!, body: JSON.parse(text) as Hook['body']});
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => webhooks.listen(WEBHOOK_PORT, '127.0.0.1', resolve));
  silent = createNetServer((socket) => void silentSockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(SILENT_PORT, '127.0.0.1', resolve));
  // The SMTP servers answer once Python has started them.
  for (const port of [SMTP_PORT, AUTH_PORT]) {
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.end();
          resolve(true);
        }).on('error', () => resolve(false));
      });
      if (up) break;
      await sleep(100);
    }
  }
  for (const [user, extra] of [
    ['alice', ['--webhook', `${HOOK}/alice`]],
    ['bob', []],
    ['carol', []],
  ] as const) {
    const added = await sandbox.run(['user', 'add', user, '--email', `${user}@example.org`, ...extra]);
    expect(added.exitCode, added.stderr).toBe(0);
  }
});
afterAll(async () => {
  for (const response of hanging) response.destroy();
  for (const socket of silentSockets) socket.destroy();
  silent?.close();
  webhooks?.closeAllConnections();
  webhooks?.close();
  smtp?.kill();
  authSmtp?.kill();
  await sandbox?.cleanup();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function mails(dir = mailDir): Promise<Mail[]> {
  const files = await readdir(path.join(dir, 'new'));
  return Promise.all(
    files.map(async (file) => {
      const text = await readFile(path.join(dir, 'new', file), 'utf8');
      const [head, ...rest] = text.split(/\r?\n\r?\n/);
      const header = (name: string) => new RegExp(`^${name}: (.*)$`, 'mi').exec(head!)?.[1]?.trim() ?? '';
      return {to: header('To'), subject: header('Subject'), body: rest.join('\n\n')};
    }),
  );
}

async function reap(env: Record<string, string> = {}): Promise<ReapReport> {
  const result = await sandbox.json<ReapReport>(['reap'], {env});
  expect(result.exitCode, JSON.stringify(result.body) + result.stderr).toBe(0);
  return result.body;
}

async function create(
  user: string,
  extra: string[] = [],
): Promise<{session_id: string; container_id: string}> {
  const result = await sandbox.json<{session_id: string; container_id: string}>([
    'session',
    'create',
    user,
    '--no-gpu',
    '--no-wait',
    ...extra,
  ]);
  expect(result.exitCode, JSON.stringify(result.body)).toBe(0);
  return result.body;
}

const eventsOf = (path: string) => hooks.filter((hook) => hook.path === path).map((hook) => hook.body.event);

describe('notifications', () => {
  it('an idle session: its user hears it ahead (mail, webhook, terminal), then that it stopped, each once over 5 reaps', async () => {
    // Her own idleWarnBefore (7s) is under the global one (30m), and under half of idleTimeout.
    expect((await sandbox.run(['user', 'set', 'alice', '--idle-warn-before', '7s'])).exitCode).toBe(0);
    const idle = {SANDMAN_IDLE_TIMEOUT: '16s'};
    const session = await create('alice');
    const createdAt = Date.parse((await readState(sandbox.stateFile)).sessions[0]!.created_at);
    // A terminal open in the session (not over SSH, which would keep it active): what it prints.
    const terminal = spawn('docker', ['exec', '-t', session.container_id, 'sleep', '40'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let seen = '';
    terminal.stdout!.on('data', (chunk: Buffer) => (seen += chunk.toString()));
    try {
      await sleep(1000);
      // Idle for a few seconds only: 13s to its stop, more than 7s ahead.
      expect((await reap(idle)).notices).toBeUndefined();
      await sleep(Math.max(0, createdAt + 10_000 - Date.now()));
      const first = await reap(idle);
      expect(first.items).toEqual([]);
      expect(first.notices).toMatchObject({recorded: 1, delivered: 4, failed: 0});
      expect(seen).toMatch(
        /\*\*\* sandman: Session [0-9a-f]{12} \(alice\) has been idle since .* will be stopped for idleness/,
      );
    } finally {
      terminal.kill();
    }
    await sleep(Math.max(0, createdAt + 17_000 - Date.now()));
    const second = await reap(idle);
    expect(second.items).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'alice', result: 'done'}),
    ]);
    expect(second.notices).toMatchObject({recorded: 1, delivered: 3, failed: 0});
    for (let run = 4; run <= 5; run++) expect((await reap(idle)).notices).toBeUndefined();
    const subjects = (await mails()).map((mail) => mail.subject).sort();
    expect(subjects).toEqual([
      '[sandman] your idle session was stopped',
      '[sandman] your idle session will be stopped soon',
    ]);
    const stopMail = (await mails()).find((mail) => mail.subject.includes('was stopped'))!;
    expect(stopMail.body).toContain(`sandman session start ${session.session_id}`);
    expect(eventsOf('/alice')).toEqual(['idle-stop-ahead', 'idle-stopped']);
    expect(eventsOf('/admin')).toEqual(['idle-stop-ahead', 'idle-stopped']);
    expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
  });

  it('tells a user her session ends soon (warnBefore), once', async () => {
    const before = hooks.length;
    await create('bob', ['--ttl', '5']);
    // As the timer's journal shows it: the run's table, then what its notices came to.
    const first = await sandbox.run(['reap']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^warn +expiring +[0-9a-f]{12} +bob +done$/m);
    expect(first.stdout).toMatch(/^Notices: 1 new, 2 delivered\.$/m);
    expect((await reap()).notices).toBeUndefined();
    const mail = (await mails()).filter((each) => each.to === 'bob@example.org');
    expect(mail.map((each) => each.subject)).toEqual(['[sandman] your session ends soon']);
    expect(mail[0]!.body).toMatch(/Session [0-9a-f]{12} \(bob\) ends in [45]m/);
    expect(hooks.slice(before).map((hook) => [hook.path, hook.body.event, hook.body.user])).toEqual([
      ['/admin', 'expiry-ahead', 'bob'],
    ]);
    expect((await sandbox.run(['session', 'rm', 'bob'])).exitCode).toBe(0);
  });

  it('a silent SMTP server and a hanging webhook delay a reap by their timeout at most, never hold the state lock, and are retried at the next reap', async () => {
    const broken = {
      SANDMAN_SMTP_URL: `smtp://127.0.0.1:${SILENT_PORT}`,
      SANDMAN_NOTIFY_WEBHOOK: `${HOOK}/hang`,
    };
    await create('carol', ['--ttl', '5']);
    const started = Date.now();
    const running = sandbox.json<ReapReport>(['reap'], {env: broken});
    let reapDone = false;
    void running.then(() => (reapDone = true));
    // While the webhook hangs, the reap holds no lock: another command changes the state at once.
    for (let i = 0; i < 100 && !hooks.some((hook) => hook.path === '/hang'); i++) await sleep(50);
    expect(hooks.filter((hook) => hook.path === '/hang').map((hook) => hook.body.user)).toEqual(['carol']);
    const changeStarted = Date.now();
    const change = await sandbox.run(['user', 'set', 'carol', '--ttl', '2h']);
    expect(change.exitCode, change.stderr).toBe(0);
    expect(Date.now() - changeStarted).toBeLessThan(2500);
    expect(reapDone).toBe(false);
    const result = await running;
    expect(result.exitCode, result.stderr).toBe(0);
    // notifyTimeout is 3s: the hanging webhook and the silent SMTP server, side by side.
    expect(Date.now() - started).toBeLessThan(3000 + 4000);
    expect(result.body.notices).toMatchObject({recorded: 1, delivered: 0, failed: 2});
    expect(result.stderr).toMatch(
      /notice not delivered \(retried at the next reap\): email expiry-ahead carol: (Greeting never received|no answer from the SMTP server within 3s)/,
    );
    expect(result.stderr).toMatch(/admin-webhook expiry-ahead carol: no answer within 3s/);
    expect((await mails()).filter((mail) => mail.to === 'carol@example.org')).toEqual([]);

    // Fixed: the next reap delivers both, once.
    const retried = await reap();
    expect(retried.notices).toMatchObject({recorded: 0, delivered: 2, failed: 0});
    expect((await reap()).notices).toBeUndefined();
    expect(
      (await mails()).filter((mail) => mail.to === 'carol@example.org').map((mail) => mail.subject),
    ).toEqual(['[sandman] your session ends soon']);
    expect(hooks.filter((hook) => hook.path === '/admin' && hook.body.user === 'carol').length).toBe(1);
    const notice = (await readState(sandbox.stateFile)).notices!.find((each) => each.user === 'carol')!;
    expect(notice.deliveries.email).toMatchObject({attempts: 1, delivered_at: expect.stringMatching(/Z$/)});
    expect(notice.deliveries['admin-webhook']).toMatchObject({
      attempts: 1,
      delivered_at: expect.stringMatching(/Z$/),
    });
    expect((await sandbox.run(['session', 'rm', 'carol'])).exitCode).toBe(0);
  });

  it('notify test sends one notice on each channel and says which failed', async () => {
    const before = hooks.length;
    const ok = await sandbox.json<{channels: Array<{channel: string; result: string}>}>([
      'notify',
      'test',
      'alice',
    ]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.body.channels.map((channel) => [channel.channel, channel.result])).toEqual([
      ['email', 'ok'],
      ['webhook', 'ok'],
      ['admin-webhook', 'ok'],
    ]);
    expect(
      hooks
        .slice(before)
        .map((hook) => [hook.path, hook.body.event])
        .sort(),
    ).toEqual([
      ['/admin', 'test'],
      ['/alice', 'test'],
    ]);
    expect(
      (await mails()).filter((mail) => mail.subject === '[sandman] test notice').map((mail) => mail.to),
    ).toEqual(['alice@example.org']);

    const failed = await sandbox.run(['notify', 'test', 'alice'], {
      env: {SANDMAN_SMTP_URL: `smtp://127.0.0.1:${DEAD_PORT}`},
    });
    expect(failed.exitCode).toBe(1);
    expect(failed.stdout).toMatch(/^email\s+alice@example\.org\s+failed: .*ECONNREFUSED/m);
    expect(failed.stdout).toMatch(/^admin-webhook\s+http:\/\/127\.0\.0\.1:36971\/…\s+ok$/m);
    expect(failed.stderr).toMatch(/1 of 3 channel\(s\) failed/);

    const unknown = await sandbox.run(['notify', 'test', 'zed']);
    expect(unknown.exitCode).toBe(3);
  });

  it('doctor checks the SMTP server and the webhook when they are configured', async () => {
    const good = await sandbox.json<{checks: Array<{name: string; status: string; detail: string}>}>([
      'doctor',
    ]);
    const checks = (body: typeof good.body) =>
      (body.checks ?? (body as unknown as {error: {details: typeof good.body}}).error.details.checks).filter(
        (check) => check.name === 'smtp' || check.name === 'webhook',
      );
    expect(checks(good.body)).toEqual([
      expect.objectContaining({
        name: 'smtp',
        status: 'ok',
        detail: `smtp://127.0.0.1:${SMTP_PORT} answers (EHLO)`,
      }),
      expect.objectContaining({name: 'webhook', status: 'ok'}),
    ]);
    const bad = await sandbox.json<{checks: Array<{name: string; status: string; detail: string}>}>(
      ['doctor'],
      {
        env: {
          SANDMAN_SMTP_URL: `smtp://127.0.0.1:${DEAD_PORT}`,
          SANDMAN_NOTIFY_WEBHOOK: `http://127.0.0.1:${DEAD_PORT}/x`,
        },
      },
    );
    expect(bad.exitCode).toBe(1);
    expect(checks(bad.body)).toEqual([
      expect.objectContaining({
        name: 'smtp',
        status: 'fail',
        detail: expect.stringContaining('ECONNREFUSED'),
      }),
      expect.objectContaining({
        name: 'webhook',
        status: 'warn',
        detail: expect.stringContaining('ECONNREFUSED'),
      }),
    ]);
  });

  it('logs in to an SMTP server with smtpPasswordFile; doctor warns of a password in smtpUrl', async () => {
    const passwordFile = path.join(sandbox.dir, 'smtp-password');
    await writeFile(passwordFile, 's3cret\n', {mode: 0o600});
    const login = {
      SANDMAN_SMTP_URL: `smtp://mailer@127.0.0.1:${AUTH_PORT}`,
      SANDMAN_SMTP_PASSWORD_FILE: passwordFile,
    };
    const sent = await sandbox.run(['notify', 'test', 'bob'], {env: login});
    expect(sent.exitCode, sent.stdout + sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^email\s+bob@example\.org\s+ok$/m);
    expect((await mails(authMailDir)).map((mail) => [mail.to, mail.subject])).toEqual([
      ['bob@example.org', '[sandman] test notice'],
    ]);
    const smtpCheck = async (env: Record<string, string>) => {
      const result = await sandbox.json<{checks: Array<{name: string; status: string; detail: string}>}>(
        ['doctor'],
        {
          env,
        },
      );
      const body = result.body as unknown as {
        checks?: Array<{name: string}>;
        error?: {details: {checks: Array<{name: string}>}};
      };
      return (body.checks ?? body.error!.details.checks).find((check) => check.name === 'smtp');
    };
    expect(await smtpCheck(login)).toMatchObject({
      status: 'ok',
      detail: `smtp://127.0.0.1:${AUTH_PORT} answers (EHLO, login)`,
    });
    await writeFile(passwordFile, 'wrong\n');
    expect(await smtpCheck(login)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/Invalid login|535/),
    });
    expect(
      await smtpCheck({
        SANDMAN_SMTP_URL: `smtp://mailer:s3cret@127.0.0.1:${AUTH_PORT}`,
      }),
    ).toMatchObject({status: 'warn', hint: expect.stringContaining('smtpPasswordFile')});
  });

  it('the API sets where her notices go (PATCH /users/{name}: email, webhook, limits.idle_warn_before)', async () => {
    const tokenFile = path.join(sandbox.dir, 'api-token');
    await writeFile(tokenFile, 'notify-token-0123456789abcdef\n', {mode: 0o600});
    const api = spawn('node', [BIN, 'api', '--listen', `127.0.0.1:${API_PORT}`], {
      env: {...process.env, ...sandbox.env, SANDMAN_API_TOKEN_FILE: tokenFile},
      stdio: 'ignore',
    });
    try {
      const patch = (body: object) =>
        fetch(`http://127.0.0.1:${API_PORT}/users/carol`, {
          method: 'PATCH',
          headers: {
            authorization: 'Bearer notify-token-0123456789abcdef',
            'content-type': 'application/json',
          },
          body: JSON.stringify(body),
        });
      let response: Response | undefined;
      for (let i = 0; i < 100 && !response; i++)
        response = await patch({
          email: 'carol@lab.example.org',
          webhook: `${HOOK}/carol`,
          limits: {idle_warn_before: '1h'},
        }).catch(async () => {
          await sleep(100);
          return undefined;
        });
      expect(response!.status).toBe(200);
      const view = (await response!.json()) as {notify: object; limits: {idle_warn_before_minutes: object}};
      expect(view.notify).toEqual({email: 'carol@lab.example.org', webhook: `${HOOK}/carol`});
      expect(view.limits.idle_warn_before_minutes).toEqual({value: 60, source: 'user'});
      const refused = await patch({email: 'not an address'});
      expect(refused.status).toBe(400);
      const removed = (await (await patch({webhook: null})).json()) as {notify: object};
      expect(removed.notify).toEqual({email: 'carol@lab.example.org', webhook: null});
    } finally {
      api.kill();
    }
  });
});
