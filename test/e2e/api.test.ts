import {chmod, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import SwaggerParser from '@apidevtools/swagger-parser';
import {execa, type ResultPromise} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN} from '../helpers/constants.js';
import {generateKeyPair} from '../../src/ssh/ssh-keys.js';
import {socketActivatedApi} from '../helpers/socket-activated-api.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';

/**
 * The HTTP API (docs/admin/http-api.md) started by the real systemd-socket-activate on a unix socket
 * and on TCP, as the .socket unit would: a loop stands in for systemd keeping the socket and
 * starting the service again after it exits when idle.
 */
// Response bodies, read field by field as a client would.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const TCP_PORT = 33_990;
const TOKEN = 'test-token-0123456789abcdef';
let sandbox: Sandbox;
let socket: string;
const activators: ResultPromise[] = [];

function activate(listen: string, extraEnv: Record<string, string> = {}): ResultPromise {
  const child = socketActivatedApi(listen, {...sandbox.env, SANDMAN_API_IDLE_TIMEOUT: '2s', ...extraEnv});
  activators.push(child);
  return child;
}

beforeAll(async () => {
  sandbox = createSandbox({
    portStart: 33_950,
    portCount: 30,
    config: {apiAllowedOrigins: ['https://portal.example.org']},
  });
  socket = path.join(sandbox.dir, 'api.sock');
  const tokenFile = path.join(sandbox.dir, 'api-token');
  await writeFile(tokenFile, TOKEN + '\n');
  await chmod(tokenFile, 0o600);
  activate(socket);
  activate(`127.0.0.1:${TCP_PORT}`, {SANDMAN_API_TOKEN_FILE: tokenFile});
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await curl(['http://x/healthz'])).status === 200) break;
    await sleep(100);
  }
});
afterAll(async () => {
  for (const child of activators) child.kill('SIGKILL');
  await execa('pkill', ['-f', `${BIN} api`], {reject: false});
  await sandbox.cleanup();
});

/** curl over the unix socket (or TCP with `tcp: true`); status and parsed body. */
async function curl(
  args: string[],
  options: {tcp?: boolean; headers?: string[]} = {},
): Promise<{status: number; body: Json; headers: string}> {
  const target = options.tcp ? [] : ['--unix-socket', socket];
  const result = await execa(
    'curl',
    ['-s', '-D', '-', ...target, ...(options.headers ?? []).flatMap((header) => ['-H', header]), ...args],
    {reject: false},
  );
  const text = String(result.stdout);
  const split = text.indexOf('\r\n\r\n');
  const headers = split >= 0 ? text.slice(0, split) : '';
  const body = split >= 0 ? text.slice(split + 4) : '';
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(headers)?.[1] ?? 0);
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // not JSON
  }
  return {status, body: parsed, headers};
}

const post = (url: string, body: unknown, extra: string[] = []) =>
  curl([
    '-X',
    'POST',
    '-H',
    'content-type: application/json',
    '--data-binary',
    typeof body === 'string' ? body : JSON.stringify(body),
    ...extra,
    url,
  ]);

describe('the HTTP API over the unix socket', () => {
  it('creates a session (201, the original fields), lets its user in, lists, shows and deletes it', async () => {
    const created = await post('http://x/sessions', {user_id: 'webuser', ttl_minutes: 45});
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(
      [
        'container_id',
        'created_at',
        'expires_at',
        'gpu_uuid',
        'session_id',
        'ssh_host',
        'ssh_port',
        'ssh_private_key',
        'ssh_user',
      ].sort(),
    );
    expect(Date.parse(created.body.expires_at) - Date.parse(created.body.created_at)).toBe(45 * 60_000);
    const keyFile = path.join(sandbox.dir, 'webuser.key');
    await writeFile(keyFile, created.body.ssh_private_key, {mode: 0o600});
    expect((await sshRun(keyFile, created.body.ssh_port, 'webuser', 'id -un')).stdout).toBe('webuser');

    const listed = await curl(['http://x/sessions']);
    const cli = await sandbox.json<Array<{session_id: string; ssh_port: number}>>(['session', 'ls']);
    expect(listed.body.map((s: {id: string}) => s.id)).toEqual(cli.body.map((s) => s.session_id));
    const shown = await curl([`http://x/sessions/${created.body.session_id}`]);
    expect(shown.body).toMatchObject({
      id: created.body.session_id,
      user_id: 'webuser',
      ttl_minutes: 45,
    });
    // The container's real address on the sessions' network, as Docker reports it.
    const address = await execa('docker', [
      'inspect',
      '--format',
      `{{(index .NetworkSettings.Networks "${sandbox.network}").IPAddress}}`,
      created.body.container_id,
    ]);
    expect(shown.body.container_ip).toBe(String(address.stdout).trim());
    expect(shown.body.container_ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(shown.body.metadata).toMatchObject({ssh_port: created.body.ssh_port});
    expect(JSON.stringify(shown.body)).not.toContain('PRIVATE KEY');
    const extended = await post(`http://x/sessions/${created.body.session_id}/extend`, {ttl_minutes: 15});
    expect(extended.body.ttl_minutes).toBe(60);
    // Stop and start (docs/admin/sessions.md "Stop and start"): 200 each, a second stop too, saying so.
    const stopped = await post(`http://x/sessions/${created.body.session_id}/stop`, {});
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({status: 'stopped', already: false});
    expect((await post(`http://x/sessions/${created.body.session_id}/stop`, {})).body.already).toBe(true);
    const started = await post(`http://x/sessions/${created.body.session_id}/start`, {});
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({status: 'running', already: false});
    expect((await sshRun(keyFile, created.body.ssh_port, 'webuser', 'id -un')).stdout).toBe('webuser');
    expect((await post('http://x/sessions/nosuchsession/start', {})).status).toBe(404);
    const audit = (await readFile(path.join(sandbox.dir, 'audit.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(
      audit.filter((entry) => entry.user === 'webuser').map((entry) => [entry.action, entry.actor]),
    ).toEqual([
      ['create', 'api:unix'],
      ['extend', 'api:unix'],
      ['stop', 'api:unix'],
      ['start', 'api:unix'],
    ]);
    const deleted = await curl(['-X', 'DELETE', `http://x/sessions/${created.body.session_id}`]);
    expect(deleted.status).toBe(200);
    expect(await sandbox.containers()).toEqual([]);
  });

  it('manages users at /users; a create their limits refuse is 403 in API words, and nothing is made', async () => {
    const {publicKey} = generateKeyPair('apiperson@laptop');
    const added = await post('http://x/users', {
      name: 'apiperson',
      ssh_keys: [publicKey],
      defaults: {gpu: 'none', ttl: '30m'},
      limits: {max_ttl: '1h'},
    });
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({user: 'apiperson', defaults: {gpu: 'none', ttl: '30m'}});
    expect(added.body.limits.max_ttl_minutes).toEqual({value: 60, source: 'user'});
    expect((await curl(['http://x/users'])).body.map((user: {user: string}) => user.user)).toContain(
      'apiperson',
    );
    const patched = await curl([
      '-X',
      'PATCH',
      '-H',
      'content-type: application/json',
      '--data-binary',
      JSON.stringify({limits: {max_ttl: null}}),
      'http://x/users/apiperson',
    ]);
    expect(patched.status).toBe(200);
    expect(patched.body.limits.max_ttl_minutes.source).toBe('setting');
    await curl([
      '-X',
      'PATCH',
      '--data-binary',
      JSON.stringify({limits: {max_ttl: '1h'}}),
      'http://x/users/apiperson',
    ]);

    const before = await readFile(sandbox.stateFile, 'utf8');
    const refused = await post('http://x/sessions', {user_id: 'apiperson', ttl_minutes: 120});
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      code: 'POLICY',
      error: 'apiperson may ask for at most 1 hour(s) (userMaxTtl, from user); asked: 2 hour(s)',
    });
    expect(await readFile(sandbox.stateFile, 'utf8')).toBe(before);
    // Her defaults and key: a no-GPU session for 30 minutes, and no private key to hand out.
    const created = await post('http://x/sessions', {user_id: 'apiperson'});
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.ssh_private_key).toBeNull();
    expect(Date.parse(created.body.expires_at) - Date.parse(created.body.created_at)).toBe(30 * 60_000);
    expect((await curl(['-X', 'DELETE', 'http://x/users/apiperson'])).status).toBe(409);
    expect((await curl(['-X', 'DELETE', 'http://x/sessions/apiperson'])).status).toBe(200);
    expect((await curl(['-X', 'DELETE', 'http://x/users/apiperson'])).status).toBe(200);
    expect((await curl(['http://x/users/apiperson'])).status).toBe(404);
  });

  it('refuses bad requests with 4xx and leaves the state file as it was', async () => {
    expect((await post('http://x/sessions', {user_id: 'keeper'})).status).toBe(201);
    // 1 MiB is more than one command-line argument may be: curl reads it from a file.
    const big = path.join(sandbox.dir, 'big.json');
    await writeFile(big, JSON.stringify({user_id: 'big', pad: 'x'.repeat(1024 * 1024)}));
    const before = await readFile(sandbox.stateFile, 'utf8');
    const cases: Array<[Promise<{status: number; body: Json}>, number, string]> = [
      [post('http://x/sessions', '{"user_id": '), 400, 'INVALID_INPUT'],
      [post('http://x/sessions', {ttl_minutes: 5}), 400, 'INVALID_INPUT'],
      [
        post('http://x/sessions', {user_id: 'x1', mig_profile: '1g.5gb', mig_instance_uuid: 'MIG-x'}),
        400,
        'INVALID_INPUT',
      ],
      [post('http://x/sessions', {user_id: 'keeper'}), 409, 'CONFLICT'],
      [curl(['http://x/sessions/nosuchsession']), 404, 'NOT_FOUND'],
      [post('http://x/sessions', `@${big}`, ['-H', 'Expect:']), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [request, status, code] of cases) {
      const response = await request;
      expect(response.status, JSON.stringify(response.body)).toBe(status);
      expect(response.body.code).toBe(code);
    }
    expect(await readFile(sandbox.stateFile, 'utf8')).toBe(before);
    expect((await curl(['-X', 'DELETE', 'http://x/sessions/keeper'])).status).toBe(200);
  });

  it('sends CORS headers only to listed origins, never *', async () => {
    const allowed = await curl(['http://x/healthz'], {headers: ['Origin: https://portal.example.org']});
    expect(allowed.headers).toMatch(/access-control-allow-origin: https:\/\/portal\.example\.org/i);
    const other = await curl(['http://x/healthz'], {headers: ['Origin: https://evil.example.com']});
    expect(other.headers).not.toMatch(/access-control-allow-origin/i);
  });

  it('exits when idle, and the next request starts it again', async () => {
    await sleep(3_000);
    // The activators wait (systemd-socket-activate); no `node … api` of theirs runs until a request
    // comes (other test files run APIs of their own).
    const parents = activators.map((child) => child.pid).join(',');
    const running = await execa('pgrep', ['-P', parents, '-x', 'node'], {reject: false});
    expect(String(running.stdout).trim()).toBe('');
    let health = await curl(['http://x/healthz']);
    for (let attempt = 0; attempt < 20 && health.status !== 200; attempt++) {
      await sleep(100);
      health = await curl(['http://x/healthz']);
    }
    expect(health.status).toBe(200);
  });

  it('serves an OpenAPI 3 document a validator accepts', async () => {
    const document = (await curl(['http://x/openapi.json'])).body;
    const api = await SwaggerParser.validate(document);
    expect((api as {openapi: string}).openapi).toBe('3.0.3');
  });

  it('takes 20 concurrent creates for distinct users: each 201 or a clean failure, distinct ports, state = Docker', async () => {
    const responses = await Promise.all(
      Array.from({length: 20}, (_, index) =>
        post('http://x/sessions', {user_id: `burst${index}`, ttl_minutes: 10}),
      ),
    );
    for (const response of responses)
      expect([201, 503], JSON.stringify(response.body)).toContain(response.status);
    const ports = responses
      .filter((response) => response.status === 201)
      .map((response) => response.body.ssh_port);
    expect(new Set(ports).size).toBe(ports.length);
    const state = JSON.parse(await readFile(sandbox.stateFile, 'utf8')) as {
      sessions: Array<{container_id: string}>;
    };
    expect(state.sessions.map((session) => session.container_id).sort()).toEqual(
      (await sandbox.containers()).sort(),
    );
    expect((await curl(['-X', 'DELETE', 'http://x/sessions'])).status).toBe(200);
    expect(await sandbox.containers()).toEqual([]);
  });
});

describe('the HTTP API over TCP', () => {
  it('needs the bearer token: none or a wrong one is 401', async () => {
    const url = `http://127.0.0.1:${TCP_PORT}/sessions`;
    let missing = await curl([url], {tcp: true});
    for (let attempt = 0; attempt < 20 && missing.status === 0; attempt++) {
      await sleep(100);
      missing = await curl([url], {tcp: true});
    }
    expect(missing.status).toBe(401);
    expect(
      (await curl([url], {tcp: true, headers: ['Authorization: Bearer wrong-token-wrong-token']})).status,
    ).toBe(401);
    const right = await curl([url], {tcp: true, headers: [`Authorization: Bearer ${TOKEN}`]});
    expect(right.status).toBe(200);
    expect(Array.isArray(right.body)).toBe(true);
  });
});
