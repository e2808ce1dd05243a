/**
 * The HTTP door (docs/admin/http-api.md, "In the browser"): the original API's endpoints, the web
 * console and its terminals over the sockets systemd passes (socket activation), through the same
 * services, locks and validation as the CLI. No daemon: it exits after apiIdleTimeout without a
 * request or an open terminal, and systemd starts it again on the next one.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import type {Duplex} from 'node:stream';
import {timingSafeEqual} from 'node:crypto';

import Router from 'find-my-way';
import {WebSocketServer} from 'ws';

import type {Config} from '../src/config/config.js';
import {invalidInput, isSandmanError, type ErrorKind} from '../src/core/errors.js';
import type {Grant} from '../src/web/web-access.js';
import {inApiWords} from './api-wording.js';
import {listenOn, serveUntil} from './foreground.js';
import {parseAppUrl} from '../src/apps/app-catalog.js';
import {apiRoutes, PUBLIC_ROUTES, type Route} from './http/api-routes.js';
import {appProxy} from './http/app-proxy.js';
import {corsHeaders, crossSiteRefusal, ownOrigin} from './http/browser-policy.js';
import {consoleFile} from './http/console-files.js';
import {clearedLoginCookie, loginCookie, loginCookieOf} from './http/login-cookie.js';
import {bridgeTerminal} from './http/terminal-socket.js';
import {guardUserRequest} from './http/user-guard.js';
import {serveSignIn, signInName, SIGN_IN_PATHS} from './http/oidc-routes.js';
import {signedInActor} from '../src/web/site-sign-in.js';
import type {Services} from './services.js';

/** The page the admin's console login gets on an app (docs/admin/apps.md). */
const ADMIN_COOKIE_ON_APPS =
  "The admin's console login opens no app: an app's pages run on this site and would act with the admin's rights. " +
  'Open it as its user (sandman user login-link USER, in a private window); scripts may use the bearer token.';

export const MAX_BODY_BYTES = 64 * 1024;

const STATUS: Record<ErrorKind, number> = {
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CAPACITY: 503,
  DEPENDENCY_UNAVAILABLE: 503,
  STATE_UNAVAILABLE: 503,
  // A limit of the user's or group's: the request is understood and refused.
  POLICY: 403,
  FAILURE: 500,
};

export interface HttpDoorOptions {
  config: Config;
  /** Services whose audit lines name this caller (with a request's own image, when it gives one). */
  services: (actor: string, overrides?: Partial<Config>) => Services;
  /** Required of TCP clients (`Authorization: Bearer …` or a login cookie); unix-socket clients are the socket's group. */
  token?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const unauthorised = () =>
  new HttpError(401, 'UNAUTHORIZED', 'log in (POST /login) or send a bearer token (Authorization: Bearer …)');

/** Who a request is: the grant it carries and how (a cookie is ambient, so it is CSRF-checked). */
interface Caller {
  grant: Grant;
  actor: string;
  byCookie: boolean;
}

async function readRaw(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `bodies are at most ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `bodies are at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const raw = await readRaw(request);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_INPUT', 'the body is not valid JSON');
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)});
  response.end(text);
}

/** A short page for a browser that followed a link or posted a form (no JavaScript needed). */
function sendPage(response: ServerResponse, status: number, message: string): void {
  const text = `<!doctype html><meta charset="utf-8"><title>sandman</title><p>${message.replace(/[<>&]/g, '')}</p><p><a href="/">The sandman console</a></p>\n`;
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sameSecret(given: string, wanted: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(wanted);
  return a.length === b.length && timingSafeEqual(a, b);
}

const bearerOf = (header: string | undefined) => /^Bearer (.+)$/.exec(header ?? '')?.[1];

/**
 * Serves on the listening sockets systemd passed (fds) until idle for apiIdleTimeout, or on an
 * address it binds itself (`sandman api --listen`) until `stopped` resolves; resolves when it has
 * stopped.
 */
export async function serveHttp(
  listen: Array<{fd: number} | {host: string; port: number}>,
  options: HttpDoorOptions & {stopped?: Promise<unknown>},
): Promise<void> {
  const {config} = options;
  const router = Router({ignoreTrailingSlash: true});
  for (const [method, path, route] of apiRoutes()) router.on(method, path, () => undefined, {route, path});
  // Logins and links change no sessions: their services are wired for the door itself.
  const door = options.services('api:web');
  const secure = config.apiPublicUrl?.startsWith('https:') ?? false;
  let inflight = 0;
  let lastActive = Date.now();
  const servers: Server[] = [];
  const sockets = new WebSocketServer({noServer: true, maxPayload: MAX_BODY_BYTES});
  // Apps in sessions (docs/admin/apps.md): open WebSockets keep the process.
  const apps = appProxy({
    apps: () => door.apps(),
    page: sendPage,
    opened: () => void inflight++,
    closed: () => {
      inflight--;
      lastActive = Date.now();
    },
  });

  /** The caller of a TCP request: bearer token, else login cookie; unix-socket callers are admins. */
  const callerOf = async (request: IncomingMessage, tcp: boolean): Promise<Caller | undefined> => {
    const source = request.socket.remoteAddress ?? '?';
    if (!tcp) return {grant: {kind: 'admin'}, actor: 'api:unix', byCookie: false};
    const bearer = bearerOf(request.headers.authorization);
    if (bearer !== undefined)
      return sameSecret(bearer, options.token ?? '')
        ? {grant: {kind: 'admin'}, actor: `api:tcp:${source}`, byCookie: false}
        : undefined;
    const grant = await (await door.webAccess()).check(loginCookieOf(request.headers));
    if (!grant) return undefined;
    const actor =
      grant.kind !== 'terminal' && grant.via === 'oidc'
        ? signedInActor(grant, source)
        : grant.kind === 'admin'
          ? `web:admin:${source}`
          : grant.kind === 'user'
            ? `web:user:${grant.user}:${source}`
            : `web:link:${source}`;
    return {grant, actor, byCookie: true};
  };

  /**
   * An app's pages are served from this origin, so they run with the browser's login: the admin's
   * login cookie would lend a user's notebook (her JavaScript) the admin's rights over the API. The
   * admin's cookie therefore opens no app; scripts use the bearer token (sent by no page), and a
   * person looks at a user's app as her (docs/admin/apps.md).
   */
  const adminByCookie = (caller: Caller) => caller.byCookie && caller.grant.kind === 'admin';

  /** Why a cookie may not be used for this request (no CSRF), or undefined when it may. */
  const siteRefusal = (request: IncomingMessage) =>
    crossSiteRefusal(
      request.headers,
      ownOrigin(request.headers, config.apiPublicUrl),
      config.apiAllowedOrigins,
    );
  const checkSite = (request: IncomingMessage) => {
    const why = siteRefusal(request);
    if (why) throw new HttpError(403, 'FORBIDDEN', why);
  };

  /** POST /login: the API token as JSON `{"token": …}` or a form field; a form is sent back to the console. */
  const login = async (request: IncomingMessage, response: ServerResponse) => {
    checkSite(request);
    const form = String(request.headers['content-type'] ?? '').startsWith(
      'application/x-www-form-urlencoded',
    );
    const token: unknown = form
      ? new URLSearchParams((await readRaw(request)).toString('utf8')).get('token')
      : ((await readJson(request)) as {token?: unknown} | undefined)?.token;
    if (typeof token !== 'string' || !options.token || !sameSecret(token, options.token)) {
      if (form) return sendPage(response, 401, 'That is not the API token.');
      throw new HttpError(401, 'UNAUTHORIZED', 'that is not the API token');
    }
    const {cookie, expiresAt} = await (await door.webAccess()).login({kind: 'admin'}, config.apiLoginTtl);
    response.setHeader('set-cookie', loginCookie(cookie, expiresAt, secure));
    if (form) return void response.writeHead(303, {location: '/'}).end();
    send(response, 200, {ok: true, expires_at: expiresAt.toISOString()});
  };

  /**
   * GET /t/TOKEN: a one-time link; once used it gives a login for that session's terminal (a
   * terminal link) or for that user's own sessions (a user's login link, docs/admin/console-and-sign-in.md "User logins").
   */
  const link = async (token: string, response: ServerResponse) => {
    const state = await (await door.store()).read();
    const redeemed = await (
      await door.webAccess()
    ).redeem(
      token,
      (id) => state.sessions.find((session) => session.id === id)?.expires_at,
      config.apiLoginTtl,
      (user) => Boolean(state.users[user]?.added_at),
    );
    if ('refused' in redeemed) {
      const why = {
        unknown: 'This link is not valid.',
        used: 'This link was already used: ask for a new one.',
        expired: 'This link has expired, or what it was for has ended: ask for a new one.',
      }[redeemed.refused];
      return sendPage(response, 403, why);
    }
    response.setHeader('set-cookie', loginCookie(redeemed.cookie, redeemed.expiresAt, secure));
    const {grant} = redeemed;
    const location =
      grant.kind === 'terminal' ? `/terminal.html?session=${encodeURIComponent(grant.session)}` : '/';
    response.writeHead(303, {location}).end();
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, tcp: boolean) => {
    inflight++;
    lastActive = Date.now();
    try {
      for (const [name, value] of Object.entries(corsHeaders(request.headers, config.apiAllowedOrigins)))
        response.setHeader(name, value);
      if (request.method === 'OPTIONS') return void response.writeHead(204).end();
      const url = new URL(request.url ?? '/', 'http://sandman');
      // An app of a session: its user or the admin, else the login page (anonymous) or a 403 page.
      const app = parseAppUrl(request.url ?? '/');
      if (app) {
        if ('redirect' in app) return void response.writeHead(301, {location: app.redirect}).end();
        const caller = await callerOf(request, tcp);
        if (!caller) return void response.writeHead(303, {location: '/'}).end();
        if (adminByCookie(caller)) return sendPage(response, 403, ADMIN_COOKIE_ON_APPS);
        const why =
          request.method !== 'GET' && request.method !== 'HEAD' && caller.byCookie && siteRefusal(request);
        if (why) return sendPage(response, 403, why);
        return await apps.http(request, response, app, caller.grant);
      }
      // The console's pages and the browser's own doors need no login.
      if (request.method === 'GET') {
        const file = await consoleFile(url.pathname, signInName(config));
        if (file) {
          response.writeHead(200, {
            'content-type': file.type,
            'content-length': file.body.length,
            'x-content-type-options': 'nosniff',
            'x-frame-options': 'DENY',
            'cache-control': 'no-cache',
          });
          return void response.end(file.body);
        }
        const linkToken = /^\/t\/([A-Za-z0-9_-]{20,100})$/.exec(url.pathname)?.[1];
        if (linkToken) return await link(linkToken, response);
        // Site sign-in (docs/admin/console-and-sign-in.md "Site sign-in (OpenID Connect)"): to the provider and back.
        if (SIGN_IN_PATHS.has(url.pathname))
          return await serveSignIn(url.pathname, request, response, {signIn: door.siteSignIn, secure});
      }
      if (request.method === 'POST' && url.pathname === '/login') return await login(request, response);
      if (request.method === 'POST' && url.pathname === '/logout') {
        checkSite(request);
        await (await door.webAccess()).logout(loginCookieOf(request.headers));
        response.setHeader('set-cookie', clearedLoginCookie(secure));
        return send(response, 200, {ok: true});
      }
      const found = router.find(request.method as 'GET', url.pathname);
      // A public route runs for anyone; the exact method and path match, so nothing else does.
      const caller = PUBLIC_ROUTES.has(`${request.method} ${url.pathname}`)
        ? {grant: {kind: 'admin' as const}, actor: 'api:anonymous', byCookie: false}
        : await callerOf(request, tcp);
      if (!caller) throw unauthorised();
      if (url.pathname === '/whoami' && request.method === 'GET') return send(response, 200, caller.grant);
      if (caller.grant.kind === 'terminal')
        throw new HttpError(403, 'FORBIDDEN', "this login opens one session's terminal only");
      // A cookie is sent by the browser whatever page asks: only the console and listed pages may change things.
      if (caller.byCookie && request.method !== 'GET') checkSite(request);
      if (!found) throw new HttpError(404, 'NOT_FOUND', `no endpoint ${request.method} ${url.pathname}`);
      let body =
        request.method === 'POST' || request.method === 'PATCH' ? await readJson(request) : undefined;
      let params = found.params;
      const actor = caller.actor;
      const {route, path} = found.store as {route: Route; path: string};
      // A user login: her own sessions only (docs/admin/console-and-sign-in.md "User logins"); 403 for anything else.
      if (caller.grant.kind === 'user') {
        const guarded = await guardUserRequest(door, caller.grant.user, {
          method: request.method!,
          routePath: path,
          params,
          body,
        });
        if ('refused' in guarded) throw new HttpError(403, 'FORBIDDEN', guarded.refused);
        ({params, body} = guarded);
      }
      const [status, result] = await route({
        body,
        params,
        grant: caller.grant,
        query: url.searchParams,
        services: options.services(actor),
        servicesWith: (overrides) => options.services(actor, overrides),
        publicUrl: config.apiPublicUrl ?? ownOrigin(request.headers, undefined),
        actor,
      });
      send(response, status, result);
    } catch (error) {
      if (error instanceof HttpError) {
        // A body refused unread: the connection cannot be reused.
        if (error.status === 413) response.setHeader('connection', 'close');
        send(response, error.status, {error: error.message, code: error.code});
      } else if (isSandmanError(error))
        send(response, STATUS[error.kind], {error: inApiWords(error.message), code: error.kind});
      else send(response, 500, {error: (error as Error).message, code: 'FAILURE'});
    } finally {
      inflight--;
      lastActive = Date.now();
    }
  };

  /**
   * GET /sessions/ID/terminal as a WebSocket: an admin's login (or bearer token), or a terminal
   * link's login for that session only; from the console's own origin or a listed one.
   */
  const upgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer, tcp: boolean) => {
    lastActive = Date.now();
    // Refused before any WebSocket: the answer, then the connection goes (a client that keeps its
    // end open must not keep this process from exiting when idle).
    const refuse = (status: number, message: string) => {
      socket.end(`HTTP/1.1 ${status} ${message}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`, () =>
        socket.destroy(),
      );
    };
    try {
      const url = new URL(request.url ?? '/', 'http://sandman');
      const app = parseAppUrl(request.url ?? '/');
      if (app && !('redirect' in app)) {
        const caller = await callerOf(request, tcp);
        if (!caller) return refuse(401, 'Unauthorized');
        if (adminByCookie(caller) || (caller.byCookie && siteRefusal(request)))
          return refuse(403, 'Forbidden');
        return await apps.upgrade(request, socket, head, app, caller.grant, refuse);
      }
      const id = /^\/sessions\/([^/]+)\/terminal$/.exec(url.pathname)?.[1];
      if (!id) return refuse(404, 'Not Found');
      const caller = await callerOf(request, tcp);
      if (!caller) return refuse(401, 'Unauthorized');
      if (caller.grant.kind === 'terminal' && caller.grant.session !== decodeURIComponent(id))
        return refuse(403, 'Forbidden');
      // A user login: a terminal in her own session only, by its full ID.
      if (caller.grant.kind === 'user') {
        const guarded = await guardUserRequest(door, caller.grant.user, {
          method: 'GET',
          routePath: '/sessions/:id/terminal',
          params: {id: decodeURIComponent(id)},
          body: undefined,
        });
        if ('refused' in guarded || guarded.params.id !== decodeURIComponent(id))
          return refuse(403, 'Forbidden');
      }
      if (caller.byCookie && siteRefusal(request)) return refuse(403, 'Forbidden');
      const source = request.socket.remoteAddress ?? '?';
      sockets.handleUpgrade(request, socket, head, (ws) => {
        inflight++;
        const size = {cols: Number(url.searchParams.get('cols')), rows: Number(url.searchParams.get('rows'))};
        bridgeTerminal(
          ws,
          size,
          async (opened) =>
            (await options.services(caller.actor).terminals()).open(decodeURIComponent(id), opened, {source}),
          () => {
            inflight--;
            lastActive = Date.now();
          },
        );
      });
    } catch {
      refuse(500, 'Internal Server Error');
    }
  };

  for (const target of listen) {
    const server = createServer();
    // Slow clients are cut off instead of holding the process (and its idle timer) forever.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await listenOn(server, target);
    const tcp = typeof server.address() === 'object' && server.address() !== null;
    if (tcp && !options.token) {
      throw invalidInput(
        'a TCP socket was passed but no apiTokenFile is set: TCP clients need a bearer token',
      );
    }
    server.on('request', (request, response) => void handle(request, response, tcp));
    server.on('upgrade', (request, socket, head) => void upgrade(request, socket, head, tcp));
    servers.push(server);
  }
  await serveUntil(
    servers,
    options.stopped,
    () => inflight === 0 && Date.now() - lastActive >= config.apiIdleTimeout,
  );
  for (const client of sockets.clients) client.terminate();
}
