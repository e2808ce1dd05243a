/**
 * The in-session door (docs/admin/sessions.md "The in-session command"): HTTP on the sessions
 * network's gateway address, socket-activated like the API (no daemon: it exits after
 * apiIdleTimeout without a request). A request carries a session's credential and comes from that
 * session's container address, or it gets no answer at all (the connection is closed). The client
 * in the session (images/workspace/sandman-client.sh) sends its argv; the answer is the text to
 * print (`x-sandman-stream`: stdout or stderr) and the exit code (`x-sandman-exit`).
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';

import type {Config} from '../src/config/config.js';
import {systemClock} from '../src/core/clock.js';
import {sessionOfSecret} from '../src/self/self-credential.js';
import {SelfService, type SelfAnswer} from '../src/self/self-service.js';
import type {SessionRecord} from '../src/state/state-data.js';
import {listenOn, serveUntil} from './foreground.js';
import type {Services} from './services.js';

/** A request body is a short argv: anything bigger is refused unread. */
export const MAX_SELF_BODY_BYTES = 8 * 1024;
/** Words in a request: a job's command line is its arguments too. */
const MAX_SELF_WORDS = 256;
/** How long the answer to `sandman stop` has to reach the client before its container stops. */
const STOP_GRACE_MS = 1_000;

export interface SelfDoorOptions {
  config: Config;
  /** Services whose audit lines name this caller (`alice (session ID)`). */
  services: (actor: string) => Services;
  stopped?: Promise<unknown>;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

function answer(response: ServerResponse, status: number, result: Omit<SelfAnswer, 'after'>): void {
  const stream = result.stdout !== '' || result.stderr === '' ? 'stdout' : 'stderr';
  const text = stream === 'stdout' ? result.stdout : result.stderr;
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-sandman-exit': String(result.exitCode),
    'x-sandman-stream': stream,
    connection: 'close',
  });
  response.end(text);
}

/** The argv the client sent: `{"argv": [...]}`, short strings only. */
async function readArgv(request: IncomingMessage): Promise<string[]> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (!(declared <= MAX_SELF_BODY_BYTES))
    throw new Refusal(413, 2, `requests are at most ${MAX_SELF_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_SELF_BODY_BYTES)
      throw new Refusal(413, 2, `requests are at most ${MAX_SELF_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new Refusal(400, 2, 'the request is not valid JSON');
  }
  const argv = (body as {argv?: unknown} | null)?.argv;
  if (
    !Array.isArray(argv) ||
    argv.length > MAX_SELF_WORDS ||
    !argv.every((word) => typeof word === 'string' && word.length <= 2000)
  )
    throw new Refusal(400, 2, `the request must be {"argv": [up to ${MAX_SELF_WORDS} strings]}`);
  return argv as string[];
}

const bearerOf = (header: string | undefined) => /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header ?? '')?.[1];
const plainAddress = (address: string | undefined) => (address ?? '').replace(/^::ffff:/, '');

export async function serveSelf(
  listen: Array<{fd: number} | {host: string; port: number}>,
  options: SelfDoorOptions,
): Promise<void> {
  const {config} = options;
  const door = options.services('self-serve');
  let inflight = 0;
  let lastActive = Date.now();

  /** The session whose credential this is, from that session's own address; else undefined. */
  const callerOf = async (request: IncomingMessage): Promise<SessionRecord | undefined> => {
    const secret = bearerOf(request.headers.authorization);
    if (!secret) return undefined;
    const state = await (await door.store()).read();
    const session = sessionOfSecret(state.sessions, secret, Date.now());
    if (!session) return undefined;
    const endpoints = await door.sessionEndpoints();
    const own = await endpoints.onNetwork?.(session).catch(() => undefined);
    if (!own || plainAddress(own.host) !== plainAddress(request.socket.remoteAddress)) return undefined;
    return session;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    inflight++;
    lastActive = Date.now();
    let after: (() => Promise<void>) | undefined;
    let session: SessionRecord | undefined;
    try {
      session = await callerOf(request).catch(() => undefined);
      // Nothing for a caller who is not a live session speaking from its own address.
      if (!session) return void request.socket.destroy();
      const path = /^\/s\/([0-9a-f]{1,64})\/run$/.exec(new URL(request.url ?? '/', 'http://self').pathname);
      if (!path) throw new Refusal(404, 3, `no such request ${request.url}`);
      if (path[1] !== session.id)
        throw new Refusal(403, 3, `this session's credential is for session ${session.id}, not ${path[1]}`);
      if (request.method !== 'POST') throw new Refusal(405, 2, 'only POST');
      if (config.backend === 'swarm')
        throw new Refusal(200, 2, 'sandman in a session is not available in Swarm mode');
      const argv = await readArgv(request);
      const services = options.services(`${session.user} (session ${session.id})`);
      const self = new SelfService({
        config,
        store: await services.store(),
        clock: systemClock,
        sessions: () => services.sessionService(),
        queued: async (user) => (await services.sessionQueries()).queued({user}),
        gpuHours: async (user, windowMs) => (await services.usage()).gpuHours(user, windowMs),
        disk: async (user) => (await services.users()).disk(user),
        loginLink: (user) => services.userLoginLink(user),
        audit: await services.auditLog(),
        jobs: async () => (await services.sessionService()).jobs,
      });
      const result = await self.run(session.id, argv);
      after = result.after;
      answer(response, 200, result);
    } catch (error) {
      const refusal =
        error instanceof Refusal ? error : new Refusal(500, 1, (error as Error).message || 'failure');
      // A session's refused request is an audit line too (nothing else is: it gets no answer).
      if (session) {
        const audit = await options.services(`${session.user} (session ${session.id})`).auditLog();
        await audit
          .record({
            action: 'self',
            session: session.id,
            user: session.user,
            result: 'failed',
            reason: `${request.method} ${request.url}: ${refusal.message}`.slice(0, 300),
          })
          .catch(() => undefined);
      }
      answer(response, refusal.status, {
        exitCode: refusal.exitCode,
        stdout: '',
        stderr: `sandman: error: ${refusal.message}\n`,
      });
    } finally {
      if (after) {
        // The answer first (the client prints it), then what ends the connection it came over.
        const run = after;
        await new Promise((resolve) =>
          response.writableFinished ? resolve(undefined) : response.once('finish', resolve),
        );
        await new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS));
        await run().catch((error: unknown) =>
          process.stderr.write(`sandman self-serve: ${(error as Error).message}\n`),
        );
      }
      inflight--;
      lastActive = Date.now();
    }
  };

  const servers: Server[] = [];
  for (const target of listen) {
    const server = createServer();
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await listenOn(server, target);
    server.on('request', (request, response) => void handle(request, response));
    // A malformed request gets no answer either.
    server.on('clientError', (_error, socket) => socket.destroy());
    servers.push(server);
  }
  await serveUntil(
    servers,
    options.stopped,
    () => inflight === 0 && Date.now() - lastActive >= config.apiIdleTimeout,
  );
}
