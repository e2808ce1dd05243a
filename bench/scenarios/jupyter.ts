/** Jupyter through the app proxy (docs/admin/apps.md), against the same requests to Jupyter itself. */
import {writeFileSync} from 'node:fs';
import {Agent} from 'node:http';
import path from 'node:path';

import {execa} from 'execa';
import WebSocket from 'ws';

import {BASE, BIN, IMAGE, RUNS, dir, docker, env, median, sandman, type Row} from '../harness.js';
import {containerAddress, get, getRound, proxyRow} from './apps.js';

const API_PORT = 34_994;
const TOKEN = 'bench-token-jupyter-0123456789abcd';
/** The image `sandman image build --app jupyter` makes from the bench's base (built once, then reused). */
const JUPYTER_IMAGE = `${IMAGE}-jupyter`;

/**
 * A session of the Jupyter image (Debian's jupyter-notebook), opened through the API's proxy with the
 * admin's bearer token, against the same requests straight to Jupyter at the container's address
 * with Jupyter's own token (the one the proxy adds). HTTP: rounds of 20 GETs of `api/status` on a
 * keep-alive connection, each round's median; WebSocket: a running kernel's `channels` socket, 20
 * `kernel_info_request` → `kernel_info_reply` round trips (through the Python kernel). Proxy and
 * direct alternate round by round.
 */
export async function benchJupyterProxy(): Promise<Row[]> {
  if ((await docker(['image', 'inspect', JUPYTER_IMAGE])).exitCode !== 0) {
    const built = await sandman([
      'image',
      'build',
      '--base',
      BASE,
      '--app',
      'jupyter',
      '--tag',
      JUPYTER_IMAGE,
    ]);
    if (built.exitCode !== 0) throw new Error(`the Jupyter image did not build: ${String(built.stderr)}`);
  }
  const tokenFile = path.join(dir, 'api-token-jupyter');
  writeFileSync(tokenFile, TOKEN + '\n', {mode: 0o600});
  const created = await sandman([
    'session',
    'create',
    'jupy',
    '--no-gpu',
    '--image',
    JUPYTER_IMAGE,
    '--json',
  ]);
  if (created.exitCode !== 0) throw new Error(`session create failed: ${String(created.stderr)}`);
  const id = (JSON.parse(String(created.stdout)) as {session_id: string}).session_id;
  const container = `sandman-jupy-${id}`;
  const api = execa(process.execPath, [BIN, 'api', '--listen', `127.0.0.1:${API_PORT}`], {
    env: {...env, SANDMAN_API_TOKEN_FILE: tokenFile, SANDMAN_API_PUBLIC_URL: `http://127.0.0.1:${API_PORT}`},
    reject: false,
  });
  const agent = new Agent({keepAlive: true, maxSockets: 1});
  try {
    const proxied = `http://127.0.0.1:${API_PORT}/s/${id}/apps/jupyter/`;
    const bearer = {Authorization: `Bearer ${TOKEN}`};
    // The first request through the proxy starts Jupyter in the session (as a browser's would).
    for (let tries = 0; ; tries++) {
      try {
        await get(agent, `${proxied}api/status`, bearer);
        break;
      } catch (error) {
        if (tries > 300) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    const own = String(
      (await docker(['exec', container, 'cat', '/run/sandman-apps/jupyter.token'])).stdout,
    ).trim();
    const address = await containerAddress(container);
    const direct = `http://${address}:8888/s/${id}/apps/jupyter/`;
    const jupyterAuth = {Authorization: `token ${own}`};
    const started = await fetch(`${direct}api/kernels`, {
      method: 'POST',
      headers: {...jupyterAuth, 'Content-Type': 'application/json'},
      body: JSON.stringify({name: 'python3'}),
    });
    if (!started.ok) throw new Error(`no kernel: ${started.status} ${await started.text()}`);
    const kernel = (await started.json()) as {id: string};
    const channels = (base: string) => `${base.replace('http:', 'ws:')}api/kernels/${kernel.id}/channels`;
    const http = {proxy: [] as number[], direct: [] as number[]};
    const ws = {proxy: [] as number[], direct: [] as number[]};
    for (let run = 0; run < RUNS * 2; run++) {
      http.proxy.push(await getRound(agent, `${proxied}api/status`, bearer));
      http.direct.push(await getRound(agent, `${direct}api/status`, jupyterAuth));
      ws.proxy.push(await kernelInfoRoundTrips(channels(proxied), bearer));
      ws.direct.push(await kernelInfoRoundTrips(channels(direct), jupyterAuth));
    }
    return [
      proxyRow('Jupyter via proxy: GET api/status', http, 5, 'the same GET to Jupyter at the container'),
      proxyRow(
        'Jupyter via proxy: kernel_info on WS',
        ws,
        2,
        "kernel_info over the kernel's channels at the container",
      ),
    ];
  } finally {
    agent.destroy();
    api.kill();
    await api;
    await sandman(['session', 'rm', 'jupy']);
  }
}

/** An open kernel channels socket's kernel_info round trips (20, after 5 not timed): their median, ms. */
async function kernelInfoRoundTrips(url: string, headers: Record<string, string>): Promise<number> {
  const socket = new WebSocket(url, {headers});
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const session = `bench-${Date.now()}`;
  const times: number[] = [];
  // One close listener for the whole exchange: a reply still awaited fails instead of hanging.
  let failPending: ((error: Error) => void) | undefined;
  socket.once('close', () => failPending?.(new Error(`${url} closed`)));
  try {
    for (let index = 0; index < 25; index++) {
      const msgId = `${session}-${index}`;
      const replied = new Promise<void>((resolve, reject) => {
        const onMessage = (data: WebSocket.RawData) => {
          const message = JSON.parse(String(data)) as {msg_type?: string; parent_header?: {msg_id?: string}};
          if (message.msg_type !== 'kernel_info_reply' || message.parent_header?.msg_id !== msgId) return;
          socket.off('message', onMessage);
          resolve();
        };
        socket.on('message', onMessage);
        failPending = reject;
      });
      const start = performance.now();
      socket.send(
        JSON.stringify({
          header: {
            msg_id: msgId,
            msg_type: 'kernel_info_request',
            session,
            username: 'bench',
            version: '5.3',
          },
          parent_header: {},
          metadata: {},
          content: {},
          channel: 'shell',
          buffers: [],
        }),
      );
      await replied;
      if (index >= 5) times.push(performance.now() - start);
    }
  } finally {
    socket.close();
  }
  return median(times);
}
