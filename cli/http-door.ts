/**
 * The HTTP door (README "HTTP API"): the original API's endpoints over the sockets systemd passes
 * (socket activation), through the same services, locks and validation as the CLI. No daemon: it
 * exits after apiIdleTimeout without a request, and systemd starts it again on the next one.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http';
import {timingSafeEqual} from 'node:crypto';

import Router from 'find-my-way';

import {isImageReference, type Config} from '../src/config.js';
import {invalidInput, isSandmanError, type ErrorKind} from '../src/errors.js';
import type {GpuChoice} from '../src/gpu/gpu-allocator.js';
import {migSlices} from '../src/gpu/mig-slices.js';
import {LABELS} from '../src/labels.js';
import {isQueued} from '../src/session/session-queue.js';
import type {RemoveResult} from '../src/session/session-service.js';
import type {UserChanges} from '../src/users/user-service.js';
import type {SessionView} from '../src/session/session-view.js';
import {validateUserName} from '../src/user-name.js';
import {inApiWords} from './api-wording.js';
import {OPENAPI} from './openapi.js';
import type {Services} from './services.js';

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
  /** Required of TCP clients (`Authorization: Bearer …`); unix-socket clients are the socket's group. */
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

type Route = (request: {
  body: unknown;
  params: Record<string, string | undefined>;
  services: Services;
  servicesWith: (overrides: Partial<Config>) => Services;
}) => Promise<[number, unknown]>;

/** The endpoints, with the original request and response fields. */
function routes(): Array<[method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, route: Route]> {
  return [
    ['GET', '/healthz', async () => [200, {status: 'ok'}]],
    ['GET', '/openapi.json', async () => [200, OPENAPI]],
    [
      'POST',
      '/sessions',
      async ({body, services, servicesWith}) => {
        const input = objectBody(body);
        if (typeof input.user_id !== 'string') throw invalidInput('missing user_id');
        const user = validateUserName(input.user_id);
        if (input.image !== undefined && (typeof input.image !== 'string' || !isImageReference(input.image)))
          throw invalidInput(`invalid image ${JSON.stringify(input.image)}: not an image reference`);
        const gpu = gpuChoice(input);
        const ttl = input.ttl_minutes === undefined ? undefined : String(input.ttl_minutes);
        if (input.node !== undefined && typeof input.node !== 'string')
          throw invalidInput('node must be a string');
        // A request's own image gets services wired with it; everything else as configured.
        const chosen = typeof input.image === 'string' ? servicesWith({image: input.image}) : services;
        const created = await (
          await chosen.sessionService()
        ).createOrQueue({
          user,
          ttl,
          gpu,
          password: false,
          env: [],
          wait: true,
          node: input.node as string | undefined,
          queue: input.queue === true,
        });
        // Nothing free and "queue": true: 202 with the place in line; it starts by itself.
        if (isQueued(created)) return [202, created];
        return [
          201,
          {
            session_id: created.session_id,
            container_id: created.container_id,
            ssh_user: created.ssh_user,
            ssh_host: created.ssh_host,
            ssh_port: created.ssh_port,
            ssh_private_key: created.ssh_private_key,
            gpu_uuid: created.gpu_uuid,
            created_at: created.created_at,
            expires_at: created.expires_at,
          },
        ];
      },
    ],
    [
      'GET',
      '/sessions',
      async ({services}) => {
        const [{sessions, queued}, addresses] = await Promise.all([
          (await services.sessionQueries()).overview(),
          containerAddresses(services),
        ]);
        return [200, [...sessions.map((view) => sessionObject(view, addresses)), ...queued]];
      },
    ],
    [
      'GET',
      '/sessions/:id',
      async ({params, services}) => {
        const view = await (await services.sessionQueries()).show(params.id!);
        return [200, sessionObject(view, await containerAddresses(services))];
      },
    ],
    [
      'POST',
      '/sessions/:id/extend',
      async ({body, params, services}) => {
        const input = objectBody(body);
        if (input.ttl_minutes === undefined) throw invalidInput('missing ttl_minutes');
        return [
          200,
          sessionObject(
            await (await services.sessionService()).extend(params.id!, String(input.ttl_minutes)),
            await containerAddresses(services),
          ),
        ];
      },
    ],
    ...(['stop', 'start'] as const).map((action): [method: 'POST', path: string, route: Route] => [
      'POST',
      `/sessions/:id/${action}`,
      async ({params, services}) => {
        const service = await services.sessionService();
        const result = action === 'stop' ? await service.stop(params.id!) : await service.start(params.id!);
        return [200, {...sessionObject(result, await containerAddresses(services)), already: result.already}];
      },
    ]),
    [
      'DELETE',
      '/sessions/:id',
      async ({params, services}) => removed(await (await services.sessionService()).remove([params.id!])),
    ],
    [
      'DELETE',
      '/sessions',
      async ({services}) => removed(await (await services.sessionService()).removeAll()),
    ],
    ['GET', '/users', async ({services}) => [200, await (await services.users()).list()]],
    [
      'GET',
      '/users/:name',
      async ({params, services}) => [200, await (await services.users()).show(params.name!)],
    ],
    [
      'POST',
      '/users',
      async ({body, services}) => {
        const input = objectBody(body);
        if (typeof input.name !== 'string') throw invalidInput('missing name');
        return [201, await (await services.users()).add(validateUserName(input.name), userChanges(input))];
      },
    ],
    [
      'PATCH',
      '/users/:name',
      async ({body, params, services}) => [
        200,
        await (await services.users()).set(params.name!, userChanges(objectBody(body))),
      ],
    ],
    [
      'DELETE',
      '/users/:name',
      async ({params, services}) => [
        200,
        await (await services.users()).remove(params.name!, {force: false}),
      ],
    ],
    [
      'GET',
      '/gpus',
      async ({services}) => {
        // Swarm mode: the devices each node advertises to Swarm, and who holds them.
        const swarm = await services.swarmGpus();
        if (swarm) {
          const nodes = await swarm.list();
          return [200, {nodes, count: nodes.reduce((sum, node) => sum + node.devices.length, 0)}];
        }
        const gpus = await (await services.gpuService()).list();
        const bytes = (mib: number | null) => (mib === null ? null : mib * 1_048_576);
        return [
          200,
          {
            gpus: gpus.map((gpu) => ({
              uuid: gpu.uuid,
              name: gpu.name,
              memory_total: bytes(gpu.memory_total_mib),
              memory_free: bytes(gpu.memory_free_mib),
              memory_used: bytes(gpu.memory_used_mib),
              utilization: gpu.utilization_percent,
              temperature: gpu.temperature_c,
              power_usage: gpu.power_draw_w,
              power_limit: gpu.power_limit_w,
              mig_enabled: gpu.mig_mode === 'Enabled',
              mig_instances: gpu.mig_devices.map((device) => ({
                uuid: device.uuid,
                profile: device.profile,
                memory: device.memory_gib === null ? null : Math.round(device.memory_gib * 1_073_741_824),
                allocated: device.session_id !== null,
              })),
            })),
            count: gpus.length,
          },
        ];
      },
    ],
    [
      'GET',
      '/gpus/profiles',
      async ({services}) => {
        const swarm = await services.swarmGpus();
        if (swarm) {
          const views = await swarm.profiles();
          return [
            200,
            {
              profiles: views.map((view) => ({
                name: view.profile,
                compute_slices: migSlices(view.profile) ?? null,
                memory_slices: null,
                memory_size: null,
                node: view.node,
                description: `node ${view.node}: ${view.devices_free}/${view.devices_total} devices free`,
              })),
            },
          ];
        }
        const profiles = await (await services.gpuService()).profiles();
        return [
          200,
          {
            profiles: profiles.map((profile) => ({
              name: profile.profile,
              compute_slices: profile.slices,
              memory_slices: null,
              memory_size: Math.round(profile.memory_gib * 1_073_741_824),
              description: `GPU ${profile.gpu_index}: ${profile.devices_free}/${profile.devices_total} devices free, ${profile.instances_free}/${profile.instances_total} could be created`,
            })),
          },
        ];
      },
    ],
    [
      'GET',
      '/gpus/available',
      async ({services}) => {
        const swarm = await services.swarmGpus();
        if (swarm) {
          const free = (await swarm.available()).devices.map((device) => ({
            uuid: device.uuid,
            profile: device.profile,
            memory: null,
            compute_slices: migSlices(device.profile) ?? null,
            memory_slices: null,
            parent_gpu: null,
            node: device.node,
            allocated: false,
          }));
          return [200, {available_instances: free, count: free.length}];
        }
        const available = await (await services.gpuService()).available();
        const instances = available.devices.map((device) => ({
          uuid: device.uuid,
          profile: device.profile,
          memory: device.memory_gib === null ? null : Math.round(device.memory_gib * 1_073_741_824),
          compute_slices: device.profile ? (migSlices(device.profile) ?? null) : null,
          memory_slices: null,
          parent_gpu: device.gpu_index,
          allocated: false,
        }));
        return [200, {available_instances: instances, count: instances.length}];
      },
    ],
  ];
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidInput('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** The GPU a create asks for: mig_profile, mig_instance_uuid, or gpu ("none", "any", a UUID or index). */
function gpuChoice(input: Record<string, unknown>): GpuChoice {
  const given = (['mig_profile', 'mig_instance_uuid', 'gpu'] as const).filter(
    (key) => input[key] !== undefined,
  );
  if (given.length > 1)
    throw invalidInput(`give one of mig_profile, mig_instance_uuid and gpu, not ${given.join(' and ')}`);
  for (const key of given) if (typeof input[key] !== 'string') throw invalidInput(`${key} must be a string`);
  if (typeof input.mig_profile === 'string') return {kind: 'profile', profile: input.mig_profile};
  if (typeof input.mig_instance_uuid === 'string')
    return {kind: 'mig-instance', uuid: input.mig_instance_uuid};
  if (input.gpu === 'none') return {kind: 'none'};
  if (typeof input.gpu === 'string') return {kind: 'gpu', ref: input.gpu};
  return {kind: 'default'};
}

/**
 * A user's fields as the API takes them (README "HTTP API": /users): `ssh_keys` (authorized_keys
 * lines), `group`, `defaults: {mig_profile | gpu: "any"|"none", ttl}`, `limits: {max_sessions,
 * allowed_profiles, max_ttl, gpu_hour_budget}` (null takes a user's own limit away).
 */
function userChanges(input: Record<string, unknown>): UserChanges {
  const text = (value: unknown, field: string): string | null | undefined => {
    if (value === undefined || value === null) return value;
    if (typeof value !== 'string') throw invalidInput(`${field} must be a string`);
    return value;
  };
  const keys = input.ssh_keys;
  if (keys !== undefined && (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string')))
    throw invalidInput('ssh_keys must be an array of public key lines');
  const defaults = (input.defaults ?? {}) as Record<string, unknown>;
  const limits = (input.limits ?? {}) as Record<string, unknown>;
  const gpu = text(defaults.gpu, 'defaults.gpu');
  const profile = text(defaults.mig_profile, 'defaults.mig_profile');
  if (gpu !== undefined && gpu !== null && gpu !== 'any' && gpu !== 'none')
    throw invalidInput('defaults.gpu must be "any" or "none"');
  const maxSessions = limits.max_sessions;
  if (maxSessions !== undefined && maxSessions !== null && !Number.isInteger(maxSessions))
    throw invalidInput('limits.max_sessions must be a whole number');
  const profiles = limits.allowed_profiles;
  if (profiles !== undefined && profiles !== null && !Array.isArray(profiles))
    throw invalidInput('limits.allowed_profiles must be an array of profile names');
  return {
    keys: ((keys as string[] | undefined) ?? []).map((key, index) => ({
      text: key,
      source: `ssh_keys[${index}]`,
    })),
    group: text(input.group, 'group'),
    gpu: profile
      ? {kind: 'profile', profile}
      : gpu === 'any'
        ? {kind: 'gpu', ref: 'any'}
        : gpu === 'none'
          ? {kind: 'none'}
          : undefined,
    ttl: text(defaults.ttl, 'defaults.ttl'),
    limits: {
      userMaxSessions: maxSessions as number | null | undefined,
      allowedProfiles: profiles as string[] | null | undefined,
      userMaxTtl: text(limits.max_ttl, 'limits.max_ttl'),
      gpuHourBudget: text(limits.gpu_hour_budget, 'limits.gpu_hour_budget'),
    },
  };
}

/** The first failure decides the answer, as it decides `session rm`'s exit code. */
function removed(result: RemoveResult): [number, unknown] {
  const first = result.errors[0];
  if (first) throw first.error;
  return [200, {removed: result.removed.map((session) => session.session_id)}];
}

/** Each session container's address on the sessions' network, by container name (one engine call). */
async function containerAddresses(services: Services): Promise<Map<string, string>> {
  const docker = await services.containers();
  const containers = await docker.listContainers({[LABELS.instance]: services.stateDir.instance});
  const network = services.config.network;
  return new Map(
    containers.flatMap((container) => {
      const address = container.addresses?.[network];
      return address ? [[container.name, address] as const] : [];
    }),
  );
}

/** A session as the original GET endpoints gave it (no key, no password). */
function sessionObject(view: SessionView, addresses: Map<string, string>) {
  return {
    id: view.session_id,
    session_id: view.session_id,
    user_id: view.ssh_user,
    container_id: view.container_id,
    container_ip: addresses.get(view.container_name) ?? null,
    status: view.status,
    ssh_user: view.ssh_user,
    ssh_host: view.ssh_host,
    ssh_port: view.ssh_port,
    gpu_uuid: view.gpu_uuid,
    mig_profile: view.mig_profile,
    ttl_minutes: Math.round((Date.parse(view.expires_at) - Date.parse(view.created_at)) / 60_000),
    created_at: view.created_at,
    expires_at: view.expires_at,
    metadata: {image: view.image, workspace: view.workspace, ssh_port: view.ssh_port},
  };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
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
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'INVALID_INPUT', 'the body is not valid JSON');
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)});
  response.end(text);
}

function authorised(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Serves on the listening sockets `fds` until idle for apiIdleTimeout; resolves when it has stopped. */
export async function serveHttp(fds: number[], options: HttpDoorOptions): Promise<void> {
  const router = Router({ignoreTrailingSlash: true});
  for (const [method, path, route] of routes()) {
    router.on(method, path, () => undefined, {route});
  }
  let inflight = 0;
  let lastActive = Date.now();
  const servers: Server[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse, tcp: boolean) => {
    inflight++;
    lastActive = Date.now();
    try {
      const origin = request.headers.origin;
      if (origin && options.config.apiAllowedOrigins.includes(origin)) {
        // Only listed origins, never "*", and no credentials: the token is not a cookie.
        response.setHeader('access-control-allow-origin', origin);
        response.setHeader('vary', 'Origin');
        response.setHeader('access-control-allow-headers', 'authorization, content-type');
        response.setHeader('access-control-allow-methods', 'GET, POST, PATCH, DELETE');
      }
      if (request.method === 'OPTIONS') {
        response.writeHead(204).end();
        return;
      }
      if (tcp && !authorised(request.headers.authorization, options.token ?? '')) {
        throw new HttpError(401, 'UNAUTHORIZED', 'a bearer token is needed (Authorization: Bearer …)');
      }
      const url = new URL(request.url ?? '/', 'http://sandman');
      const found = router.find(request.method as 'GET', url.pathname);
      if (!found) throw new HttpError(404, 'NOT_FOUND', `no endpoint ${request.method} ${url.pathname}`);
      const body =
        request.method === 'POST' || request.method === 'PATCH' ? await readBody(request) : undefined;
      const actor = tcp ? `api:tcp:${request.socket.remoteAddress ?? '?'}` : 'api:unix';
      const route = (found.store as {route: Route}).route;
      const [status, result] = await route({
        body,
        params: found.params,
        services: options.services(actor),
        servicesWith: (overrides) => options.services(actor, overrides),
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

  for (const fd of fds) {
    const server = createServer();
    // Slow clients are cut off instead of holding the process (and its idle timer) forever.
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({fd}, () => resolve());
    });
    const tcp = typeof server.address() === 'object' && server.address() !== null;
    if (tcp && !options.token) {
      throw invalidInput(
        'a TCP socket was passed but no apiTokenFile is set: TCP clients need a bearer token',
      );
    }
    server.on('request', (request, response) => void handle(request, response, tcp));
    servers.push(server);
  }
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (inflight === 0 && Date.now() - lastActive >= options.config.apiIdleTimeout) {
        clearInterval(timer);
        for (const server of servers) {
          server.close();
          server.closeAllConnections();
        }
        resolve();
      }
    }, 250);
  });
}
