import type {Server as HttpServer} from 'node:http';
import type {Server} from 'node:net';

import {SETTINGS} from '../src/config/config.js';
import {conflict, invalidInput} from '../src/core/errors.js';

/**
 * `sandman api --listen` and `sandman gateway --listen` (docs/admin/http-api.md "Without systemd"): bound by the
 * process itself and served in the foreground until a supervisor (runit, supervisord, s6, a
 * container's init) stops it, where systemd would have listened and started them on demand.
 */

/** `--listen HOST:PORT`, checked as the apiListen setting is (`[::1]:8080` for IPv6). */
export function listenAddress(raw: string): {host: string; port: number} {
  const value = SETTINGS.apiListen.parse(raw, `invalid --listen ${JSON.stringify(raw)}`) as string;
  const colon = value.lastIndexOf(':');
  return {host: value.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(value.slice(colon + 1))};
}

/**
 * Resolves at the first SIGTERM or SIGINT (a supervisor's stop, Ctrl-C). The listeners stay: taken
 * away while the signal is being handled, signal-exit (loaded by proper-lockfile) would find itself
 * alone and kill the process with the signal before it has stopped serving.
 */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.on('SIGTERM', resolve);
    process.on('SIGINT', resolve);
  });
}

/** Where a door listens: an address it binds itself, or a socket systemd passed. */
export type ListenTarget = {fd: number} | {host: string; port: number};

/**
 * The sockets systemd socket activation passed (LISTEN_FDS, from fd 3 on, when LISTEN_PID is this
 * process); none when `--listen` is given. Neither is `refusal`, an invalid input.
 */
export function socketsPassed(listen: string | undefined, refusal: string): Array<{fd: number}> {
  if (listen !== undefined) return [];
  const count = Number(process.env.LISTEN_FDS ?? 0);
  const pid = process.env.LISTEN_PID;
  const activated =
    Number.isInteger(count) && count >= 1 && (pid === undefined || Number(pid) === process.pid);
  if (!activated) throw invalidInput(refusal);
  return Array.from({length: count}, (_, index) => ({fd: 3 + index}));
}

/**
 * What a door (`sandman api`, `sandman self-serve`) serves on: the sockets systemd passed, served
 * until idle, or with `--listen` the address it binds itself, served until SIGTERM.
 */
export function listenTargets(
  listen: string | undefined,
  passed: Array<{fd: number}>,
): {targets: ListenTarget[]; stopped?: Promise<unknown>} {
  return listen === undefined
    ? {targets: passed}
    : {targets: [listenAddress(listen)], stopped: untilStopped()};
}

/** Listens on an address (or a socket systemd passed); an address in use is a conflict (exit 4). */
export function listenOn(server: Server, target: ListenTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = 'fd' in target ? `fd ${target.fd}` : `${target.host}:${target.port}`;
      const say = error.code === 'EADDRINUSE' ? conflict : invalidInput;
      reject(say(`cannot listen on ${where}: ${error.message}`));
    });
    server.listen(target, () => resolve());
  });
}

/**
 * Serves until `stopped` resolves (a foreground run) or, without it, until `idle()` holds (a
 * socket-activated run: systemd starts the process again at the next connection); then closes the
 * servers and their open connections.
 */
export async function serveUntil(
  servers: HttpServer[],
  stopped: Promise<unknown> | undefined,
  idle: () => boolean,
): Promise<void> {
  await (stopped ??
    new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (idle()) {
          clearInterval(timer);
          resolve();
        }
      }, 250);
    }));
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
}
