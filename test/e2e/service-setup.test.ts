import {chmod, mkdir, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {connect} from 'node:net';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN} from '../helpers/constants.js';
import {gatewaySsh, listening} from '../helpers/gateway.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

/**
 * The API and the SSH gateway as a host runs them (docs/admin/http-api.md, "Without systemd"): setup
 * makes the API's token when apiListen is set and doctor checks it and both services' units; on a
 * host without systemd, `api --listen` and `gateway --listen` serve in the foreground until SIGTERM.
 */
const API_PORT = 36_700;
const GATEWAY_PORT = 36_701;
let sandbox: Sandbox;
let units: string;
let tokenFile: string;
const children: ResultPromise[] = [];

interface SetupBody {
  ok: boolean;
  steps: Array<{step: string; status: string; detail: string}>;
  checks: Array<{name: string; status: string; detail: string}>;
}
const doctor = async () => (await sandbox.json<{checks: SetupBody['checks']}>(['doctor'])).body.checks;
const check = (checks: SetupBody['checks'], name: string) => checks.find((one) => one.name === name);

beforeAll(() => {
  sandbox = createSandbox({portStart: 36_710, portCount: 10});
  units = path.join(sandbox.dir, 'units');
  tokenFile = path.join(sandbox.dir, 'state', 'api-token');
});
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await sandbox.run(['session', 'rm', '--all', '--yes']);
  await sandbox.cleanup();
});

/** `sandman ARGS` in the foreground, as a supervisor runs it; resolves once it listens on `port`. */
async function foreground(
  args: string[],
  port: number,
  env: Record<string, string> = {},
): Promise<{child: ResultPromise}> {
  const child = execa('node', [BIN, ...args], {
    env: {...sandbox.env, SANDMAN_API_IDLE_TIMEOUT: '1s', ...env},
    reject: false,
    all: true,
  });
  children.push(child);
  for (let tries = 0; tries < 100 && !(await listening('127.0.0.1', port)); tries++) await sleep(100);
  expect(await listening('127.0.0.1', port), `${args.join(' ')} never listened`).toBe(true);
  // Wrapped: an async function would wait for the process itself (it is a promise too).
  return {child};
}

/** SIGTERM, as a supervisor stops it: it exits 0 within seconds and its port is closed. */
async function stopsOnSigterm({child}: {child: ResultPromise}, port: number): Promise<void> {
  const started = Date.now();
  child.kill('SIGTERM');
  const result = await child;
  expect(result.exitCode, `${result.all}`).toBe(0);
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(await listening('127.0.0.1', port)).toBe(false);
}

/** `setup ARGS` on a sandbox: it succeeds and makes the API token at `file`. */
async function setupMakingToken(on: Sandbox, args: string[], file: string): Promise<SetupBody> {
  const result = await on.json<SetupBody>(['setup', ...args]);
  expect(result.exitCode, JSON.stringify(result.body)).toBe(0);
  expect(result.body.steps).toContainEqual({
    step: 'api token',
    status: 'done',
    detail: `${file} (600, random)`,
  });
  return result.body;
}

/** A TCP connection that never logs in: the first line it gets (none when refused), and its end. */
function openConnection(port: number): Promise<{firstLine: string; closed: Promise<void>}> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    let text = '';
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve({firstLine: text.split('\n')[0]!.trim(), closed});
    });
    socket.on('close', () => resolve({firstLine: text.trim(), closed}));
  });
}

const curl = async (url: string, headers: string[] = []) =>
  String(
    (await execa('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...headers, url], {reject: false}))
      .stdout,
  );

describe('setup with apiListen', () => {
  it('makes a random 0600 API token and keeps it in the config file; doctor checks it and the API and gateway units', async () => {
    const first = await setupMakingToken(
      sandbox,
      ['--api-listen', `127.0.0.1:${API_PORT}`, '--gateway', '--unit-dir', units],
      tokenFile,
    );
    const token = await readFile(tokenFile, 'utf8');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    const info = await stat(tokenFile);
    expect([(info.mode & 0o777).toString(8), info.uid]).toEqual(['600', 0]);
    expect(JSON.parse(await readFile(sandbox.env.SANDMAN_CONFIG!, 'utf8'))).toMatchObject({
      apiListen: `127.0.0.1:${API_PORT}`,
      apiTokenFile: tokenFile,
    });
    // doctor: the token and the gateway's units (setup put them there) pass; the API's units are
    // not installed yet, which it says with the command that installs them.
    expect(check(first.checks, 'api token')).toMatchObject({status: 'ok'});
    expect(check(first.checks, 'gateway units')).toMatchObject({status: 'ok'});
    expect(check(first.checks, 'api units')).toMatchObject({status: 'warn'});
    expect((await sandbox.run(['systemd', 'install', '--api', '--dir', units])).exitCode).toBe(0);
    expect(check(await doctor(), 'api units')).toMatchObject({status: 'ok'});

    // Run again: the token stays as it was.
    const again = await sandbox.json<SetupBody>(['setup']);
    expect(again.body.steps).toContainEqual({step: 'api token', status: 'ok', detail: `${tokenFile} (600)`});
    expect(await readFile(tokenFile, 'utf8')).toBe(token);

    // A token file others can read: doctor says so, setup makes it 0600 again (same token).
    await chmod(tokenFile, 0o644);
    const loose = check(await doctor(), 'api token');
    expect(loose).toMatchObject({status: 'fail'});
    expect(loose?.detail).toContain('is mode 644');
    const tightened = await sandbox.json<SetupBody>(['setup']);
    expect(tightened.body.steps).toContainEqual({
      step: 'api token',
      status: 'done',
      detail: `${tokenFile} (600, was 644)`,
    });
    expect(((await stat(tokenFile)).mode & 0o777).toString(8)).toBe('600');
    expect(await readFile(tokenFile, 'utf8')).toBe(token);

    // A gateway unit gone from where setup put it: doctor fails it.
    await rm(path.join(units, 'sandman-gateway.socket'));
    const gone = check(await doctor(), 'gateway units');
    expect(gone).toMatchObject({status: 'fail', detail: `sandman-gateway.socket not in ${units}`});
    await sandbox.run(['setup']);
    expect(check(await doctor(), 'gateway units')).toMatchObject({status: 'ok'});
  });
});

describe('without systemd: the foreground mode for a supervisor', () => {
  it('sandman api --listen serves with the token past apiIdleTimeout, and stops on SIGTERM', async () => {
    const token = (await readFile(tokenFile, 'utf8')).trim();
    const api = await foreground(['api', '--listen', `127.0.0.1:${API_PORT}`], API_PORT);
    const url = `http://127.0.0.1:${API_PORT}/sessions`;
    expect(await curl(url)).toBe('401');
    expect(await curl(url, ['-H', `Authorization: Bearer ${token}`])).toBe('200');
    // Idle for longer than apiIdleTimeout (1 s here): a supervised API does not exit.
    await sleep(2_500);
    expect(await curl(url, ['-H', `Authorization: Bearer ${token}`])).toBe('200');
    await stopsOnSigterm(api, API_PORT);
  });

  it('sandman gateway --listen logs users in, connection after connection, and stops on SIGTERM', async () => {
    const keys = path.join(sandbox.dir, 'laptop');
    await mkdir(keys);
    const key = path.join(keys, 'gina');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    expect((await sandbox.run(['user', 'add', 'gina', '--ssh-key', `${key}.pub`, '--no-gpu'])).exitCode).toBe(
      0,
    );
    const knownHosts = path.join(sandbox.dir, 'known_hosts');
    await writeFile(knownHosts, (await sandbox.run(['known-hosts'])).stdout + '\n');
    const gateway = await foreground(['gateway', '--listen', `127.0.0.1:${GATEWAY_PORT}`], GATEWAY_PORT);
    for (const attempt of [1, 2]) {
      const login = await gatewaySsh(GATEWAY_PORT, 'gina', 'id -un', {knownHosts, key});
      expect(login.stdout.trim(), `connection ${attempt}: ${login.stderr}`).toBe('gina');
    }
    await stopsOnSigterm(gateway, GATEWAY_PORT);
  });

  it('sandman gateway --listen holds gatewayMaxConnectionsPerSource per address; SIGTERM ends open connections', async () => {
    const port = 36_703;
    const gateway = await foreground(['gateway', '--listen', `127.0.0.1:${port}`], port, {
      SANDMAN_GATEWAY_MAX_CONNECTIONS_PER_SOURCE: '2',
    });
    await sleep(1_000); // the probes that saw it listen are let go
    const held = await Promise.all([openConnection(port), openConnection(port)]);
    expect(held.map((one) => one.firstLine)).toEqual(['SSH-2.0-sandman-gateway', 'SSH-2.0-sandman-gateway']);
    expect((await openConnection(port)).firstLine).toBe('');
    await stopsOnSigterm(gateway, port);
    await Promise.all(held.map((one) => one.closed));
  });

  it('a port already taken is a conflict (exit 4) that names it', async () => {
    const api = await foreground(['api', '--listen', `127.0.0.1:${API_PORT}`], API_PORT);
    const second = await sandbox.run(['gateway', '--listen', `127.0.0.1:${API_PORT}`]);
    expect(second.exitCode).toBe(4);
    expect(second.stderr).toContain(`cannot listen on 127.0.0.1:${API_PORT}`);
    await stopsOnSigterm(api, API_PORT);
  });
});

describe('setup --remove --purge', () => {
  it('removes the API token setup made at the configured apiTokenFile; without --purge it stays', async () => {
    const file = path.join(sandbox.dir, 'etc', 'api-token');
    const other = createSandbox({portStart: 36_720, portCount: 5, config: {apiTokenFile: file}});
    const units = path.join(other.dir, 'units');
    try {
      await setupMakingToken(other, ['--api-listen', '127.0.0.1:36702', '--unit-dir', units], file);
      expect((await other.json<SetupBody>(['setup', '--remove'])).exitCode).toBe(0);
      expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
      const purged = await other.json<SetupBody>(['setup', '--remove', '--purge', '--yes']);
      expect(purged.exitCode, JSON.stringify(purged.body)).toBe(0);
      expect(await stat(file).catch(() => undefined)).toBeUndefined();
    } finally {
      await other.cleanup();
    }
  });
});
