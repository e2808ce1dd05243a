/**
 * The Docker engine's connection and its errors, shared by the container client and the Swarm
 * services: one socket, Docker's failures turned into SandmanErrors with exit codes.
 */
import {Agent, type AgentOptions} from 'node:http';
import {PassThrough} from 'node:stream';

import type Dockerode from 'dockerode';

import {dependencyUnavailable, errnoCode, httpStatus, notFound, SandmanError} from '../../../core/errors.js';
import type {RemoveOutcome} from '../container-client.js';

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']);

function engineAddress(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** Turns dockerode's errors into SandmanErrors with sandman exit codes (docs/admin/scripting.md). */
export function translate(error: unknown, action: string): SandmanError {
  if (error instanceof SandmanError) return error;
  const code = errnoCode(error);
  if (code === 'EACCES' || code === 'EPERM') {
    return dependencyUnavailable(
      `permission denied on ${engineAddress().replace(/^unix:\/\//, '')} while trying to ${action}: ` +
        'run as root or as a member of the docker group (which is as good as root)',
      error,
    );
  }
  if (code && CONNECTION_ERRORS.has(code)) {
    return dependencyUnavailable(
      `Docker engine unreachable at ${engineAddress()} (${code}) while trying to ${action}; is dockerd running?`,
      error,
    );
  }
  const status = httpStatus(error);
  const message = dockerMessage(error);
  return new SandmanError(
    'FAILURE',
    `Docker could not ${action}: ${message}${status ? ` (HTTP ${status})` : ''}`,
    {
      cause: error,
    },
  );
}

export function dockerMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'json' in error) {
    const json = (error as {json: unknown}).json;
    if (typeof json === 'object' && json !== null && 'message' in json)
      return String((json as {message: unknown}).message);
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * An engine on a Unix socket (the default, or DOCKER_HOST=unix://): its requests go through an
 * agent that names no TLS server. Node's agent otherwise works one out for every request, asking
 * net.isIP whether "localhost" is an address, and the first such question compiles the IPv6
 * pattern: a few milliseconds of every command that talks to Docker. TCP engines (with or without
 * TLS) keep dockerode's own.
 */
function overUnixSocket(docker: Dockerode): Dockerode {
  const modem = docker.modem as {socketPath?: unknown; protocol?: string; agent?: Agent};
  if (modem.socketPath && modem.protocol === 'http' && !modem.agent) {
    // Node's global agent's settings (Node 19 and later), and no TLS server name.
    modem.agent = new Agent({
      keepAlive: true,
      scheduling: 'lifo',
      timeout: 5000,
      servername: '',
    } as AgentOptions);
  }
  return docker;
}

/** Runs one engine call, its errors turned into SandmanErrors naming what it was trying to do. */
export type DockerCall = <T>(action: string, fn: (docker: Dockerode) => Promise<T>) => Promise<T>;

/** A connection to the engine: dockerode and its dependencies load only when a command really talks to Docker. */
export function dockerCall(): DockerCall {
  let engine: Promise<Dockerode> | undefined;
  return async (action, fn) => {
    engine ??= import('dockerode').then(({default: Docker}) => overUnixSocket(new Docker()));
    const docker = await engine;
    try {
      return await fn(docker);
    } catch (error) {
      throw translate(error, action);
    }
  };
}

/** A removal where "already gone" (404) counts as done (README: removal treats absent as success). */
export async function absentIfGone(remove: () => Promise<unknown>): Promise<RemoveOutcome> {
  try {
    await remove();
    return 'removed';
  } catch (error) {
    if (httpStatus(error) === 404) return 'absent';
    throw error;
  }
}

/**
 * A container's or a service's output as one plain stream: Docker multiplexes stdout and stderr
 * (a stream when following, one buffer otherwise). A 404 means it was removed outside sandman.
 */
export async function readLogs(
  docker: Dockerode,
  source: {
    inspect(): Promise<unknown>;
    logs(options: Record<string, unknown>): Promise<NodeJS.ReadableStream | Buffer>;
  },
  what: string,
  options: {follow: boolean; tail?: number},
): Promise<NodeJS.ReadableStream> {
  try {
    await source.inspect();
  } catch (error) {
    if (httpStatus(error) === 404)
      throw notFound(`${what} is gone (removed outside sandman); "sandman reap" cleans up its record`);
    throw error;
  }
  const output = new PassThrough();
  const logs = await source.logs({follow: options.follow, stdout: true, stderr: true, tail: options.tail});
  const stream = Buffer.isBuffer(logs) ? new PassThrough() : logs;
  docker.modem.demuxStream(stream, output, output);
  stream.on('end', () => output.end());
  if (Buffer.isBuffer(logs)) (stream as PassThrough).end(logs);
  return output;
}
