/** The app proxy (docs/admin/apps.md), through appPorts' generic port proxy. */
import {copyFileSync, writeFileSync} from 'node:fs';
import {Agent, request} from 'node:http';
import path from 'node:path';

import {execa} from 'execa';
import WebSocket from 'ws';

import {BIN, OTHER_BIN, ROOT, RUNS, dir, docker, env, median, sandman, type Row} from '../harness.js';

const API_PORT = 34_992;
const TOKEN = 'bench-token-0123456789abcdef0123';

/** One GET on a keep-alive connection: ms until the whole answer is in. */
export function get(agent: Agent, url: string, headers: Record<string, string>): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    request(url, {agent, headers}, (response) => {
      response.resume();
      response.on('end', () =>
        response.statusCode === 200
          ? resolve(performance.now() - start)
          : reject(new Error(`${url}: ${response.statusCode}`)),
      );
    })
      .on('error', reject)
      .end();
  });
}

/** A round of 20 GETs on one keep-alive connection: their median, ms. */
export async function getRound(agent: Agent, url: string, headers: Record<string, string>): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < 20; index++) times.push(await get(agent, url, headers));
  return median(times);
}

/** An open WebSocket's echo round trips (20, after 5 not timed): their median, ms. */
async function echoes(url: string, headers: Record<string, string>): Promise<number> {
  const socket = new WebSocket(url, {headers});
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const times: number[] = [];
  for (let index = 0; index < 25; index++) {
    const start = performance.now();
    socket.send(`ping ${index}`);
    await new Promise((resolve) => socket.once('message', resolve));
    if (index >= 5) times.push(performance.now() - start);
  }
  socket.close();
  return median(times);
}

/**
 * A tiny HTTP and WebSocket server (bench/apps/echo-server.py) in a session at port 8000, opened
 * through the API's port proxy (`appPorts`, the code Jupyter's proxy uses, with the bearer token)
 * against the same request straight to the container's address. Keep-alive connections, as a
 * browser's; rounds of 20 requests alternate between the two, each round's median kept. With
 * BENCH_OTHER_BIN, a second API of that build (on the next port, the same state) alternates with
 * this one: an A/B in one run.
 */
export async function benchAppProxy(): Promise<Row[]> {
  const tokenFile = path.join(dir, 'api-token');
  writeFileSync(tokenFile, TOKEN + '\n', {mode: 0o600});
  const apiEnv = {
    ...env,
    SANDMAN_API_TOKEN_FILE: tokenFile,
    SANDMAN_APP_PORTS: '8000',
    SANDMAN_API_PUBLIC_URL: `http://127.0.0.1:${API_PORT}`,
  };
  const created = await sandman(['session', 'create', 'appy', '--no-gpu', '--json']);
  if (created.exitCode !== 0) throw new Error(`session create failed: ${String(created.stderr)}`);
  const session = JSON.parse(String(created.stdout)) as {session_id: string; container_name?: string};
  const id = session.session_id;
  const container = `sandman-appy-${id}`;
  copyFileSync(path.join(ROOT, 'bench/apps/echo-server.py'), path.join(dir, 'ws', 'appy', 'echo-server.py'));
  const started = await docker([
    'exec',
    '-d',
    '-u',
    'appy',
    '-w',
    '/home/appy',
    container,
    'python3',
    'echo-server.py',
  ]);
  if (started.exitCode !== 0) throw new Error(`the app did not start: ${String(started.stderr)}`);
  const address = await containerAddress(container);
  const builds = [BIN, ...(OTHER_BIN ? [OTHER_BIN] : [])].map((bin, index) => ({
    api: execa(process.execPath, [bin, 'api', '--listen', `127.0.0.1:${API_PORT + index}`], {
      env: apiEnv,
      reject: false,
    }),
    proxied: `http://127.0.0.1:${API_PORT + index}/s/${id}/port/8000/`,
    http: [] as number[],
    ws: [] as number[],
  }));
  const auth = {Authorization: `Bearer ${TOKEN}`};
  const direct = `http://${address}:8000/`;
  try {
    const agent = new Agent({keepAlive: true, maxSockets: 1});
    for (let tries = 0; ; tries++) {
      try {
        await get(agent, direct, {});
        for (const build of builds) await get(agent, build.proxied, auth);
        break;
      } catch (error) {
        if (tries > 100) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    const directTimes = {http: [] as number[], ws: [] as number[]};
    for (let run = 0; run < RUNS * 2; run++) {
      for (const build of builds) build.http.push(await getRound(agent, build.proxied, auth));
      directTimes.http.push(await getRound(agent, direct, {}));
      for (const build of builds) build.ws.push(await echoes(build.proxied.replace('http:', 'ws:'), auth));
      directTimes.ws.push(await echoes(direct.replace('http:', 'ws:'), {}));
    }
    agent.destroy();
    return builds.flatMap((build, index) => {
      const which = index === 0 ? '' : ' (BENCH_OTHER_BIN)';
      return [
        proxyRow(
          `app proxy: HTTP request, keep-alive${which}`,
          {proxy: build.http, direct: directTimes.http},
          5,
          "the same GET to the container's address",
        ),
        proxyRow(
          `app proxy: WebSocket echo round trip${which}`,
          {proxy: build.ws, direct: directTimes.ws},
          2,
          "the same echo at the container's address",
        ),
      ];
    });
  } finally {
    for (const build of builds) build.api.kill();
    await Promise.all(builds.map((build) => build.api));
    await sandman(['session', 'rm', 'appy']);
  }
}

/**
 * A proxy row (µs) with issue 43's target, 1.2x the direct request's median plus `plusMs` (5 ms for
 * HTTP, 2 ms for a WebSocket round trip), as a ratio of this run's baseline.
 */
export function proxyRow(
  name: string,
  times: {proxy: number[]; direct: number[]},
  plusMs: number,
  baselineName: string,
): Row {
  const baseline = median(times.direct);
  return {
    name,
    sandman: median(times.proxy) * 1000,
    baseline: baseline * 1000,
    baselineName,
    target: Math.floor(((1.2 * baseline + plusMs) / baseline) * 100) / 100,
    unit: 'µs',
  };
}

/** A session container's address on the bench's sessions network. */
export async function containerAddress(container: string): Promise<string> {
  const network = env.SANDMAN_NETWORK!;
  const inspected = await docker([
    'inspect',
    container,
    '-f',
    `{{(index .NetworkSettings.Networks ${JSON.stringify(network)}).IPAddress}}`,
  ]);
  return String(inspected.stdout).trim();
}
