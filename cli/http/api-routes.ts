import {isImageReference, type Config} from '../../src/config/config.js';
import {invalidInput} from '../../src/core/errors.js';
import {migSlices} from '../../src/gpu/mig-slices.js';
import {LABELS} from '../../src/core/labels.js';
import {APPS, appPath, appsOfLabels} from '../../src/apps/app-catalog.js';
import {toJobView} from '../../src/jobs/job-view.js';
import {isQueued, type QueuedView} from '../../src/session/session-queue.js';
import type {RemoveResult} from '../../src/session/session-service.js';
import type {SessionView} from '../../src/session/session-view.js';
import type {UserChanges} from '../../src/users/user-service.js';
import {validateUserName} from '../../src/users/user-name.js';
import {terminalLink} from '../../src/web/terminal-link.js';
import type {Grant} from '../../src/web/web-access.js';
import {OPENAPI} from '../openapi.js';
import {meObject} from './me-object.js';
import {jobRoutes} from './job-routes.js';
import {gpuChoice, objectBody} from './request-fields.js';
import type {Services} from '../services.js';

/** The JSON endpoints (docs/admin/http-api.md), with the original request and response fields. */
export interface RouteRequest {
  body: unknown;
  params: Record<string, string | undefined>;
  query: URLSearchParams;
  services: Services;
  servicesWith: (overrides: Partial<Config>) => Services;
  /** Where browsers reach this API (links it hands out). */
  publicUrl: string;
  /** Who asks, as audit lines name them. */
  actor: string;
  /** What the caller's login or token lets it do (a user login: her own sessions, docs/admin/console-and-sign-in.md "User logins"). */
  grant: Grant;
}

export type Route = (request: RouteRequest) => Promise<[number, unknown]>;

/**
 * Endpoints that answer without credentials (uptime probes, load balancers): they say nothing
 * secret (docs/admin/http-api.md).
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['GET /healthz']);

export function apiRoutes(): Array<
  [method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, route: Route]
> {
  return [
    // The original API's answer, which probes match on.
    ['GET', '/healthz', async () => [200, {status: 'healthy', service: 'gpu-ssh-gateway-orchestrator'}]],
    ['GET', '/openapi.json', async () => [200, OPENAPI]],
    // Batch jobs (docs/admin/jobs.md).
    ...jobRoutes(),
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
        if (isQueued(created)) return [202, queuedObject(created)];
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
      async ({services, grant}) => {
        // A user login lists her own only (docs/admin/console-and-sign-in.md "User logins").
        const filter = grant.kind === 'user' ? {user: grant.user} : {};
        const [{sessions, queued}, addresses] = await Promise.all([
          (await services.sessionQueries()).overview(filter),
          containerAddresses(services),
        ]);
        return [
          200,
          [...sessions.map((view) => sessionObject(view, addresses)), ...queued.map(queuedObject)],
        ];
      },
    ],
    [
      'GET',
      '/me',
      async ({services, grant}) => {
        if (grant.kind !== 'user') return [200, {kind: grant.kind}];
        const [user, {sessions, queued}, addresses, jobs] = await Promise.all([
          (await services.users()).show(grant.user),
          (await services.sessionQueries()).overview({user: grant.user}),
          containerAddresses(services),
          // Her batch jobs, as GET /jobs?all=true shows them (read from the state: no job workflow to load).
          (async () =>
            ((await (await services.store()).read()).jobs ?? [])
              .filter((job) => job.user === grant.user)
              .map((job) => toJobView(job)))(),
        ]);
        return [
          200,
          {
            ...meObject(
              user,
              sessions.map((view) => sessionObject(view, addresses)),
              queued.map(queuedObject),
            ),
            jobs,
          },
        ];
      },
    ],
    [
      'GET',
      '/sessions/:id',
      async ({params, services}) => {
        const view = await (await services.sessionQueries()).showOrQueued(params.id!);
        if (isQueued(view)) return [200, queuedObject(view)];
        return [200, sessionObject(view, await containerAddresses(services))];
      },
    ],
    [
      'GET',
      '/sessions/:id/apps',
      async ({params, services, publicUrl}) => {
        const session = (await (await services.store()).read()).sessions.find((one) => one.id === params.id);
        // A full ID only (a user login's is resolved to hers); queued requests have no apps.
        if (!session) return [200, {session_id: params.id, apps: []}];
        const apps = await (await services.apps()).list(session, services.config.apiPublicUrl ?? publicUrl);
        return [200, {session_id: session.id, status: session.status, apps}];
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
    [
      'POST',
      '/sessions/:id/keep',
      async ({body, params, services}) => {
        const input = objectBody(body);
        if (!(Number.isInteger(input.minutes) && (input.minutes as number) > 0))
          throw invalidInput('minutes must be a whole number of minutes (no idle stop for that long)');
        const kept = await (await services.sessionService()).keep(params.id!, `${String(input.minutes)}m`);
        return [
          200,
          sessionObject(
            await (await services.sessionQueries()).show(kept.id),
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
      'POST',
      '/sessions/:id/terminal-link',
      async ({body, params, services, publicUrl, actor}) => {
        const input = body === undefined ? {} : objectBody(body);
        if (
          input.ttl_minutes !== undefined &&
          !(Number.isInteger(input.ttl_minutes) && (input.ttl_minutes as number) > 0)
        )
          throw invalidInput('ttl_minutes must be a whole number of minutes');
        const session = await (await services.sessionQueries()).show(params.id!);
        const link = await terminalLink(
          {access: await services.webAccess(), defaultTtl: services.config.terminalLinkTtl},
          session,
          {
            ttl: input.ttl_minutes === undefined ? undefined : `${input.ttl_minutes as number}m`,
            publicUrl: services.config.apiPublicUrl ?? publicUrl,
            madeBy: actor,
          },
        );
        return [201, link];
      },
    ],
    [
      'GET',
      '/usage',
      async ({query, services}) => {
        const text = (name: string) => query.get(name) ?? undefined;
        return [
          200,
          await (await services.usage()).report({since: text('since'), until: text('until'), by: text('by')}),
        ];
      },
    ],
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
        const runtime = await services.runtime();
        if (runtime.clusterGpus) {
          const swarm = await runtime.clusterGpus();
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
              // Who holds it: the console colours each device by its session.
              session_id: gpu.session_id,
              session_user: gpu.session_user,
              mig_instances: gpu.mig_devices.map((device) => ({
                uuid: device.uuid,
                profile: device.profile,
                memory: device.memory_gib === null ? null : Math.round(device.memory_gib * 1_073_741_824),
                allocated: device.session_id !== null,
                compute_slices: migSlices(device.profile) ?? null,
                session_id: device.session_id,
                session_user: device.session_user,
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
        const runtime = await services.runtime();
        if (runtime.clusterGpus) {
          const swarm = await runtime.clusterGpus();
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
        const runtime = await services.runtime();
        if (runtime.clusterGpus) {
          const swarm = await runtime.clusterGpus();
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

/**
 * A user's fields as the API takes them (docs/admin/http-api.md: /users): `ssh_keys` (authorized_keys
 * lines), `group`, `defaults: {mig_profile | gpu: "any"|"none", ttl}`, `limits: {max_sessions,
 * allowed_profiles, max_ttl, gpu_hour_budget, idle_warn_before}` (null takes a user's own limit away),
 * `email` and `webhook` (docs/admin/notifications-and-idleness.md "Notifications"; null takes one away).
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
      userMaxKeep: text(limits.max_keep, 'limits.max_keep'),
      idleWarnBefore: text(limits.idle_warn_before, 'limits.idle_warn_before'),
    },
    // Where her notices go (docs/admin/notifications-and-idleness.md "Notifications"); null takes one away.
    email: text(input.email, 'email'),
    webhook: text(input.webhook, 'webhook'),
  };
}

/** The first failure decides the answer, as it decides `session rm`'s exit code. */
function removed(result: RemoveResult): [number, unknown] {
  const first = result.errors[0];
  if (first) throw first.error;
  return [200, {removed: result.removed.map((session) => session.session_id)}];
}

/** What the session listings show of each container, by container name. */
interface ContainerFacts {
  /** Its address on the sessions' network. */
  address?: string;
  /** The web apps its image offers (docs/admin/apps.md). */
  apps: string[];
}

/** Each session container's address on the sessions' network and its image's apps, by container name (one engine call). */
async function containerAddresses(services: Services): Promise<Map<string, ContainerFacts>> {
  const docker = await services.containers();
  const containers = await docker.listContainers({[LABELS.instance]: services.stateDir.instance});
  const network = services.config.network;
  return new Map(
    containers.map((container) => [
      container.name,
      {address: container.addresses?.[network], apps: appsOfLabels(container.labels).map((app) => app.name)},
    ]),
  );
}

/** A queued create with a session's names for its ID and user (`id`, `user_id`), then its place in line. */
function queuedObject(view: QueuedView) {
  return {id: view.session_id, user_id: view.ssh_user, ...view};
}

/** A session as the original GET endpoints gave it (no key, no password). */
function sessionObject(view: SessionView, addresses: Map<string, ContainerFacts>) {
  return {
    id: view.session_id,
    session_id: view.session_id,
    user_id: view.ssh_user,
    container_id: view.container_id,
    container_ip: addresses.get(view.container_name)?.address ?? null,
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
    // When the reaper last saw it in use (idle time in the console); null until then.
    last_active_at: view.last_active_at,
    stopped_at: view.stopped_at,
    // The web apps its image offers, where the console opens them (GET /sessions/{id}/apps: full URLs).
    apps: (addresses.get(view.container_name)?.apps ?? []).map((name) => ({
      name,
      title: APPS[name]?.title ?? name,
      path: appPath(view.session_id, name),
    })),
  };
}
