import {chmod, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {socketActivatedApi, stopActivator} from '../helpers/socket-activated-api.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

/**
 * The original API's monitoring calls (docs/admin/http-api.md), as an uptime probe and the original
 * design's jq one-liners use them: /healthz with no credentials, and the GPU listings on a host
 * without GPUs (no nvidia-smi: the sandbox's default) against one whose driver fails.
 */
const TCP_PORT = 36_440;
const TOKEN = 'monitoring-token-0123456789abcdef';
let sandbox: Sandbox;
let socket: string;
let failingSocket: string;
let failingDriver: Record<string, string>;
const activators: ResultPromise[] = [];

beforeAll(async () => {
  sandbox = createSandbox({portStart: 36_400, portCount: 40});
  socket = path.join(sandbox.dir, 'api.sock');
  failingSocket = path.join(sandbox.dir, 'failing.sock');
  failingDriver = fakeGpuEnv(sandbox.dir, 'a100-mig-r580', {SANDMAN_FAKE_GPU_FAILURE: 'driver'});
  const tokenFile = path.join(sandbox.dir, 'api-token');
  await writeFile(tokenFile, TOKEN + '\n');
  await chmod(tokenFile, 0o600);
  const env = {...sandbox.env, SANDMAN_API_IDLE_TIMEOUT: '2s'};
  activators.push(
    socketActivatedApi(socket, env),
    socketActivatedApi(failingSocket, {...env, ...failingDriver}),
    socketActivatedApi(`127.0.0.1:${TCP_PORT}`, {...env, SANDMAN_API_TOKEN_FILE: tokenFile}),
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    if ((await curl(`http://127.0.0.1:${TCP_PORT}/healthz`)).status !== 0) break;
    await sleep(100);
  }
});
afterAll(async () => {
  for (const child of activators) await stopActivator(child);
  await sandbox.cleanup();
});

/** curl (over a unix socket when given); status and parsed body. */
async function curl(url: string, unixSocket?: string): Promise<{status: number; body: unknown}> {
  const result = await execa(
    'curl',
    ['-s', '-w', '\n%{http_code}', ...(unixSocket ? ['--unix-socket', unixSocket] : []), url],
    {reject: false},
  );
  const text = String(result.stdout);
  const split = text.lastIndexOf('\n');
  const body = text.slice(0, split);
  return {status: Number(text.slice(split + 1)), body: body === '' ? body : (JSON.parse(body) as unknown)};
}

describe('monitoring without credentials', () => {
  it('GET /healthz answers over TCP with no token, and over the socket, saying nothing secret', async () => {
    const healthy = {status: 'healthy', service: 'gpu-ssh-gateway-orchestrator'};
    expect(await curl(`http://127.0.0.1:${TCP_PORT}/healthz`)).toEqual({status: 200, body: healthy});
    expect(await curl('http://x/healthz', socket)).toEqual({status: 200, body: healthy});
    // Everything else on TCP still wants the token.
    for (const endpoint of ['/sessions', '/gpus', '/healthz/', '/users'])
      expect((await curl(`http://127.0.0.1:${TCP_PORT}${endpoint}`)).status, endpoint).toBe(401);
  });
});

describe('a host without GPUs', () => {
  it('GET /gpus and /gpus/available: 200 and empty lists, as gpu ls and gpu available say', async () => {
    expect(await curl('http://x/gpus', socket)).toEqual({status: 200, body: {gpus: [], count: 0}});
    expect(await curl('http://x/gpus/available', socket)).toEqual({
      status: 200,
      body: {available_instances: [], count: 0},
    });
    expect(await sandbox.json(['gpu', 'ls'])).toMatchObject({exitCode: 0, body: []});
    expect(await sandbox.json(['gpu', 'available'])).toMatchObject({exitCode: 0, body: {devices: []}});
    const human = await sandbox.run(['gpu', 'ls']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout).toMatch(
      /^No GPUs: nvidia-smi \(.*no-nvidia-smi\) is not installed or sees none\.$/m,
    );
  });

  it('a driver installed but failing stays an error: 503 from the API, exit 6 from the CLI', async () => {
    for (const endpoint of ['/gpus', '/gpus/available']) {
      const answer = await curl(`http://x${endpoint}`, failingSocket);
      expect(answer.status, endpoint).toBe(503);
      expect(JSON.stringify(answer.body)).toContain('the NVIDIA driver is not loaded');
    }
    for (const command of [
      ['gpu', 'ls'],
      ['gpu', 'available'],
    ]) {
      const answer = await sandbox.run(command, {env: failingDriver});
      expect(answer.exitCode, command.join(' ')).toBe(6);
      expect(answer.stderr).toContain('the NVIDIA driver is not loaded');
    }
  });
});
