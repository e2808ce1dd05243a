/**
 * The proxy to apps in sessions (docs/admin/apps.md): HTTP and WebSockets at
 * `/s/ID/apps/NAME/` and `/s/ID/port/N/`, to the session's own container, for its user and the
 * admin. Node's http and ws (already the terminal's), not a proxy library: the proxy must see each
 * WebSocket message anyway, to tell what the user does from a tab left open.
 */
import {
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type {Duplex} from 'node:stream';

import {parse, serialize} from 'cookie';
import {WebSocket, WebSocketServer} from 'ws';

import type {AppTarget} from '../../src/apps/app-catalog.js';
import {isRefusal, type AppRefusal, type AppService, type Upstream} from '../../src/apps/app-service.js';
import type {Grant} from '../../src/web/web-access.js';
import {LOGIN_COOKIE} from './login-cookie.js';

/** Headers that belong to one connection, not to the request (RFC 9110 7.6.1), and sandman's own. */
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];
/** WebSocket messages up to this size pass (notebooks with pictures in them are large). */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** A container that does not answer the connect is reported, not waited for. */
const CONNECT_TIMEOUT_MS = 5000;

export interface AppProxyOptions {
  apps: () => Promise<AppService>;
  /** A short HTML page (the console's look) for refusals. */
  page: (response: ServerResponse, status: number, message: string) => void;
  /** A WebSocket opened or closed: the API process lives while one is open. */
  opened: () => void;
  closed: () => void;
}

/**
 * Whether an HTTP request is something the user did (README: counted for the idle reaper): a
 * change (POST, PUT, PATCH, DELETE), a page she opened (a navigation), or a client that is not a
 * browser; a page's own background polls and the files it loads are not.
 */
export function isUserRequest(method: string, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET' && method !== 'HEAD') return true;
  const mode = headers['sec-fetch-mode'];
  return mode === undefined || mode === 'navigate';
}

/** The request's headers for the app: without sandman's login (cookie or bearer token) and hop-by-hop ones. */
function forwardedHeaders(
  request: IncomingMessage,
  target: AppTarget,
  upstream: Upstream,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (
      value === undefined ||
      HOP_BY_HOP.includes(name) ||
      name === 'authorization' ||
      name.startsWith('sec-websocket')
    )
      continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (headers.cookie) {
    const kept = Object.entries(parse(headers.cookie))
      .filter(([name]) => name !== LOGIN_COOKIE)
      .map(([name, value]) => serialize(name, value ?? '', {encode: (text) => text}));
    if (kept.length > 0) headers.cookie = kept.join('; ');
    else delete headers.cookie;
  }
  headers['x-forwarded-for'] = request.socket.remoteAddress ?? '';
  headers['x-forwarded-prefix'] = target.prefix.slice(0, -1);
  return {...headers, ...upstream.headers};
}

/**
 * The app's answer headers for the browser: without hop-by-hop ones, without a widened service
 * worker scope (a worker of the app must not take over the console's pages), and without a
 * cookie of sandman's name (the app must not set the browser's sandman login).
 */
export function answerHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (HOP_BY_HOP.includes(name) || name === 'service-worker-allowed') continue;
    if (name === 'set-cookie') {
      const cookies = (value as string[]).filter(
        (cookie) => !cookie.trimStart().startsWith(`${LOGIN_COOKIE}=`),
      );
      if (cookies.length > 0) kept[name] = cookies;
      continue;
    }
    kept[name] = value;
  }
  return kept;
}

export function appProxy(options: AppProxyOptions) {
  const refuse = (response: ServerResponse, refusal: AppRefusal) =>
    options.page(response, refusal.status, refusal.message);

  /** Who may open it and where it goes; undefined when the page has been answered. */
  const resolve = async (grant: Grant, target: AppTarget): Promise<Upstream | AppRefusal> =>
    (await options.apps()).upstream(grant, target);

  /** One HTTP request, proxied; resolves when its answer has been sent. */
  const http = async (
    request: IncomingMessage,
    response: ServerResponse,
    target: AppTarget,
    grant: Grant,
  ): Promise<void> => {
    const upstream = await resolve(grant, target);
    if (isRefusal(upstream)) return refuse(response, upstream);
    const apps = await options.apps();
    if (isUserRequest(request.method ?? 'GET', request.headers))
      void apps.touch(target.session).catch(() => undefined);
    const outcome = await forward(request, response, target, upstream);
    if (outcome !== 'refused') return;
    apps.forget(upstream);
    // An app known to this process stopped listening (the session was stopped and started): a
    // request without a body is sent again once, to the app started anew.
    const again = upstream.app && (request.method === 'GET' || request.method === 'HEAD');
    const restarted = again ? await resolve(grant, target) : undefined;
    if (
      restarted &&
      !isRefusal(restarted) &&
      (await forward(request, response, target, restarted)) === 'done'
    )
      return;
    if (!response.headersSent)
      options.page(
        response,
        502,
        `Nothing answers at ${target.kind === 'app' ? target.app : `port ${target.port}`} in session ${target.session}: reload the page to try again.`,
      );
  };

  /** Sends one request to the app and its answer back; 'refused' when nothing listened there. */
  const forward = (
    request: IncomingMessage,
    response: ServerResponse,
    target: AppTarget,
    upstream: Upstream,
  ): Promise<'done' | 'refused'> =>
    new Promise((done) => {
      const outgoing = httpRequest(
        {
          host: upstream.host,
          port: upstream.port,
          method: request.method,
          path: target.upstreamPath,
          headers: forwardedHeaders(request, target, upstream),
          timeout: CONNECT_TIMEOUT_MS,
        },
        (answer) => {
          outgoing.setTimeout(0);
          response.writeHead(answer.statusCode ?? 502, answerHeaders(answer.headers));
          answer.pipe(response);
          answer.on('end', () => done('done'));
          answer.on('error', () => {
            response.destroy();
            done('done');
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('timed out')));
      outgoing.on('error', () => {
        if (response.headersSent) response.destroy();
        done('refused');
      });
      response.on('close', () => {
        if (!response.writableFinished) outgoing.destroy();
        done('done');
      });
      if (request.readableEnded) outgoing.end();
      else request.pipe(outgoing);
    });

  /**
   * A WebSocket, proxied message by message: the app's end is opened first (its answer, refusal
   * included, is the browser's); each message the browser sends with something in it counts as
   * activity, pings and pongs (heartbeats) do not.
   */
  const upgrade = async (
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: AppTarget,
    grant: Grant,
    refuse: (status: number, message: string) => void,
  ): Promise<void> => {
    const upstream = await resolve(grant, target);
    if (isRefusal(upstream)) return refuse(upstream.status, upstream.message.replace(/[^ -~]/g, ''));
    const apps = await options.apps();
    const protocols = String(request.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean);
    const app = new WebSocket(`ws://${upstream.host}:${upstream.port}${target.upstreamPath}`, protocols, {
      headers: forwardedHeaders(request, target, upstream),
      maxPayload: MAX_MESSAGE_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
    });
    // The browser gave up before the app answered: nothing more to do there.
    socket.once('close', () => {
      if (app.readyState === WebSocket.CONNECTING) app.terminate();
    });
    app.on('unexpected-response', (_request, answer) => {
      refuse(answer.statusCode ?? 502, 'Bad Gateway');
      app.terminate();
    });
    app.on('error', () => {
      if (app.readyState === WebSocket.OPEN) return;
      // Nothing answered there: the next request asks the engine for the session's container again.
      apps.forget(upstream);
      refuse(502, 'Bad Gateway');
    });
    app.on('open', () => {
      const server = new WebSocketServer({
        noServer: true,
        maxPayload: MAX_MESSAGE_BYTES,
        perMessageDeflate: false,
        handleProtocols: () => app.protocol || false,
      });
      server.handleUpgrade(request, socket, head, (browser) => {
        options.opened();
        const code = (given: number) =>
          given >= 1000 && given < 5000 && ![1004, 1005, 1006, 1015].includes(given) ? given : 1000;
        browser.on('message', (data, binary) => {
          const size = Array.isArray(data)
            ? data.reduce((sum, part) => sum + part.length, 0)
            : (data as Buffer).length;
          if (size > 0) void apps.touch(target.session).catch(() => undefined);
          if (app.readyState === WebSocket.OPEN) app.send(data, {binary});
        });
        app.on('message', (data, binary) => {
          if (browser.readyState === WebSocket.OPEN) browser.send(data, {binary});
        });
        browser.on('close', (closeCode, reason) => {
          if (app.readyState === WebSocket.OPEN) app.close(code(closeCode), reason);
          else app.terminate();
          options.closed();
        });
        app.on('close', (closeCode, reason) => {
          if (browser.readyState === WebSocket.OPEN) browser.close(code(closeCode), reason);
        });
        browser.on('error', () => app.terminate());
        app.on('error', () => browser.terminate());
      });
    });
  };

  return {http, upgrade};
}
