import {randomBytes} from 'node:crypto';
import {isoSeconds, type Clock} from '../clock.js';
import type {Config} from '../config.js';
import type {ContainerClient, ContainerFile, ContainerSpec} from '../docker/container-client.js';
import {parseDuration} from '../duration.js';
import {
  capacity,
  conflict,
  dependencyUnavailable,
  invalidInput,
  isSandmanError,
  policy,
  SandmanError,
  stateUnavailable,
} from '../errors.js';
import {
  isPending,
  type GpuAllocation,
  type GpuAllocator,
  type GpuChoice,
  type GpuPlan,
  type PendingMigDevice,
} from '../gpu/gpu-allocator.js';
import type {AuditEntry, AuditLog} from '../audit-log.js';
import type {KeyStore} from '../key-store.js';
import type {HostCredentials, HostIdentity} from '../host-identity.js';
import {containerName, LABELS} from '../labels.js';
import type {Locks} from '../locks.js';
import type {Processes} from '../processes.js';
import {allocatePort, type PortProbe} from '../ports.js';
import {authorizedKeysUntil} from '../ssh-certificates.js';
import {generateKeyPair, parseAuthorizedKeys} from '../ssh-keys.js';
import type {SshProbe} from '../ssh-probe.js';
import type {StateDir} from '../state-dir.js';
import {countersOf, heldDevices, type SessionRecord, type StateData} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import type {Signals} from '../termination.js';
import type {Warn} from '../warn.js';
import {chooseUid, workspacePath, type Workspaces} from '../workspace.js';
import {loginBanner} from './banner.js';
import {parseEnvAssignments} from './env-vars.js';
import {resolveSession} from './resolve.js';
import {localAddress} from './ssh-client.js';
import {toSessionView, type SessionView} from './session-view.js';
import {validateGpuChoice} from '../gpu/gpu-choice.js';
import {SessionQueue, type QueuedView} from './session-queue.js';
import {effectiveLimits, type EffectiveLimits} from '../users/user-limits.js';
import {
  checkBudget,
  checkExtensionTtl,
  checkProfile,
  checkTtl,
  withUserDefaults,
} from '../users/user-policy.js';
import type {Cluster} from '../swarm/cluster.js';
import {homeVolume} from '../swarm/swarm-names.js';
import {
  chooseNode,
  describeResources,
  deviceName,
  freeResources,
  placementOf,
  planPlacement,
  type SwarmPlacement,
} from '../swarm/swarm-placement.js';

/** The capabilities sshd needs to start, drop privileges and chroot; everything else is dropped. */
export const SSHD_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'SETUID',
  'SETGID',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
  'NET_BIND_SERVICE',
];

export interface CreateRequest {
  user: string;
  /** TTL text as typed (`90m`, `2h`, `45`); undefined means the configured default. */
  ttl?: string;
  gpu: GpuChoice;
  /** Public keys from `--ssh-key`, with a name for messages; undefined means "make a key pair". */
  authorizedKeys?: {text: string; source: string};
  password: boolean;
  env: string[];
  wait: boolean;
  /** Swarm mode: the node for the user's first session (their home is made there). */
  node?: string;
  /** Nothing free: wait in line instead of exit 5 (README "Users and limits": the queue). */
  queue?: boolean;
  /** The queued request this create starts (its ID becomes the session's). */
  fromQueue?: string;
}

export interface ResumeOutcome {
  outcome: 'started' | 'moved' | 'ended';
  detail: string;
}

/** What one reference given to `session rm` came to when it could not be removed. */
export interface RemoveError {
  reference: string;
  error: SandmanError;
}

export interface RemoveResult {
  removed: SessionView[];
  /** In the order the references were given: unknown ones first, then failed removals. */
  errors: RemoveError[];
  /** Queued requests (README "Users and limits") that left the line. */
  cancelled: string[];
}

export interface CreatedSession extends SessionView {
  ssh_private_key: string | null;
  /** Printed once, never stored. */
  ssh_password?: string;
  gpu_note?: string;
  /** Share of a GPU the session holds (usage accounting); null without a GPU. */
  gpu_fraction?: number | null;
}

export interface SessionServiceDeps {
  config: Config;
  stateDir: StateDir;
  store: StateStore;
  docker: ContainerClient;
  gpus: GpuAllocator;
  keys: KeyStore;
  hostIdentity: HostIdentity;
  /** Puts the network policy in place (README "Network boundary"); checked before every start. */
  networkBoundary: {ensure(): Promise<unknown>};
  /** Swarm mode (README "Swarm mode"): the cluster the sessions run on; absent on a single host. */
  cluster?: Cluster;
  workspaces: Workspaces;
  locks: Locks;
  clock: Clock;
  portProbe: PortProbe;
  sshProbe: SshProbe;
  signals: Signals;
  processes: Processes;
  sshHost: () => Promise<string>;
  warn: Warn;
  /** Progress reporting for long steps (spinner text on a terminal). */
  progress?: (step: string) => void;
  audit?: AuditLog;
  /** Runs after every change to sessions (rewrites the metrics file when one is configured). */
  afterChange?: () => Promise<void>;
  /**
   * A user's GPU-hours over a window, as `usage` counts them (README "Users and limits"); read only
   * when a gpuHourBudget applies to the user, so creates without budgets never read the audit log.
   */
  gpuHours?: (user: string, windowMs: number) => Promise<{used: number; oldestLeavesAt: number | null}>;
  /** Crash-test hook between steps (README "Running the tests"); a no-op in normal use. */
  faultPoint?: (
    name: 'reserved' | 'container-created' | 'container-started' | 'before-commit',
  ) => Promise<void>;
}

/** How many sessions `rm` tears down at once. */
const PARALLEL_REMOVALS = 8;

/** The GPU part of a record, as the allocator sees it. */
export function allocationOf(record: SessionRecord): GpuAllocation {
  return {
    gpu_uuid: record.gpu_uuid ?? '',
    gpu_index: record.gpu_index,
    mig_profile: record.mig_profile,
    mig_created: record.mig_created,
    mig_gpu_instance: record.mig_gpu_instance ?? null,
    mig_compute_instance: record.mig_compute_instance ?? null,
  };
}

export function newSessionId(): string {
  return randomBytes(6).toString('hex');
}

/** Sessions, as a list of readable steps: reserve under the lock, build outside it, then commit or undo. */
export class SessionService {
  readonly #deps: SessionServiceDeps;
  readonly #instance: string;

  /** Queued creates (README "Users and limits"); started by whatever frees capacity. */
  readonly queue: SessionQueue;

  constructor(deps: SessionServiceDeps) {
    this.#deps = deps;
    this.#instance = deps.stateDir.instance;
    this.queue = new SessionQueue({
      config: deps.config,
      store: deps.store,
      clock: deps.clock,
      warn: deps.warn,
      audit: deps.audit,
      gpuHours: deps.gpuHours,
      start: (request) => this.create(request),
    });
  }

  get instance(): string {
    return this.#instance;
  }

  async create(request: CreateRequest): Promise<CreatedSession> {
    try {
      return await this.#createAudited(request);
    } catch (error) {
      // A failed create's undo may have freed what a queued request waits for.
      if (!request.fromQueue) await this.queue.drain().catch(() => undefined);
      throw error;
    }
  }

  /**
   * A session a queued request became, as create returns it: the private key (when sandman made
   * one) is read from its file, since another process started it.
   */
  async startedFromQueue(id: string): Promise<CreatedSession> {
    const record = resolveSession((await this.#deps.store.read()).sessions, id);
    const privateKey = record.ssh_private_key_path ? await this.#deps.keys.read(record.id) : null;
    return {...toSessionView(record), ssh_private_key: privateKey, gpu_fraction: null};
  }

  /** A session, or with `queue` and nothing free (exit 5 otherwise), a place in line. */
  async createOrQueue(request: CreateRequest): Promise<CreatedSession | QueuedView> {
    try {
      return await this.create(request);
    } catch (error) {
      if (request.queue && isSandmanError(error) && error.kind === 'CAPACITY')
        return this.queue.enqueue(request, error, newSessionId());
      throw error;
    }
  }

  async #createAudited(request: CreateRequest): Promise<CreatedSession> {
    try {
      const created = await this.#create(request);
      await this.#recorded({
        action: 'create',
        session: created.session_id,
        user: request.user,
        result: 'ok',
        expires_at: created.expires_at,
        gpu_uuid: created.gpu_uuid,
        mig_profile: created.mig_profile,
        gpu_fraction: created.gpu_fraction,
      });
      return created;
    } catch (error) {
      // A queued request that still finds nothing free keeps waiting: that is no failed create.
      const waiting = isSandmanError(error) && (error.kind === 'CAPACITY' || error.details?.queued_gone);
      if (
        !(request.fromQueue && waiting) &&
        !(request.queue && isSandmanError(error) && error.kind === 'CAPACITY')
      )
        await this.#recorded({
          action: 'create',
          session: null,
          user: request.user,
          result: 'failed',
          reason: (error as Error).message,
        });
      throw error;
    }
  }

  /** Audit line plus metrics refresh; neither may fail the action itself. */
  async #recorded(entry: AuditEntry): Promise<void> {
    await this.#deps.audit?.record(entry);
    await this.#deps.afterChange?.().catch((error: unknown) => {
      this.#deps.warn(`cannot update metrics: ${(error as Error).message}`);
    });
  }

  async #create(given: CreateRequest): Promise<CreatedSession> {
    const {config, docker, keys, locks, stateDir} = this.#deps;
    // 0. A registered user's defaults fill in what the request leaves open, and their registered
    // keys are what the session accepts (README "Users and limits").
    const person = (await this.#deps.store.read()).users[given.user];
    const request = withUserDefaults(given, person);
    const limits = effectiveLimits(config, given.user, person);
    // 1. Validate everything that needs no outside system, so bad input never reserves anything.
    const ttl = request.ttl === undefined ? config.defaultTtl : parseDuration(request.ttl, 'TTL');
    if (ttl > config.maxTtl) {
      throw invalidInput(`TTL ${request.ttl} is longer than maxTtl (${config.maxTtl / 60_000} minutes)`);
    }
    checkTtl(request.user, ttl, limits);
    validateGpuChoice(request.gpu);
    // A profile asked by name is refused before anything looks for one (the device picked is
    // checked again under the lock, for every other way of asking).
    if (request.gpu.kind === 'profile') checkProfile(request.user, request.gpu.profile, limits);
    const userEnv = parseEnvAssignments(request.env);
    const registeredKeys = person?.keys?.length ? person.keys.map((key) => key.line).join('\n') : undefined;
    const ownKeys = request.authorizedKeys
      ? parseAuthorizedKeys(request.authorizedKeys.text, `--ssh-key ${request.authorizedKeys.source}`)
      : registeredKeys;
    if (request.gpu.kind !== 'none') await checkBudget(request.user, limits, this.#deps.gpuHours);

    const {cluster} = this.#deps;
    if (!cluster && request.node !== undefined)
      throw invalidInput('--node works in swarm mode only (backend swarm, README "Swarm mode")');
    if (cluster && request.password)
      throw invalidInput(
        'swarm mode: --password is not available (sandman cannot reach a container on another node to set it); use keys',
      );

    // 2. Outside systems that must be there before anything is reserved.
    await docker.ping();
    const placement = cluster
      ? await planPlacement({
          cluster,
          config,
          user: request.user,
          pinned: person?.node,
          requested: request.node,
          gpu: request.gpu,
        })
      : undefined;
    if (!(await docker.imageExists(config.image))) {
      throw dependencyUnavailable(
        `image ${config.image} not found in the Docker engine; build it with "sandman image build" (or set --image)`,
      );
    }
    // Swarm mode: the scheduler picks the device, so sandman's allocator reserves none.
    const gpuPlan = placement
      ? {pick: () => null, note: placement.note}
      : await this.#deps.gpus.plan(request.gpu);
    // Swarm mode: the node's address, settled when the node is (see chooseNode).
    const sshHost = placement ? '' : (config.sshHost ?? (await this.#deps.sshHost()));

    // 3. Reserve port, GPU slice, uid and a "creating" record under the lock. The signal handler
    // is in place before the reservation starts: a signal while the record is being written waits
    // for it and then releases it, so no moment leaves a record for the reaper's stale sweep.
    const reservation = this.#reserve(
      request.user,
      ttl,
      sshHost,
      ownKeys === undefined,
      (held, pending) => gpuPlan.pick(held, pending),
      placement,
      limits,
      request.fromQueue,
    );
    let reserved: SessionRecord | undefined;
    let containerId: string | undefined;
    let allocation: GpuAllocation | undefined;
    const undo = async () => {
      const record = reserved ?? (await reservation.catch(() => undefined));
      if (record) await this.#undoCreate(record, containerId, allocation);
    };
    const stopListening = this.#deps.signals.onTermination(undo);
    try {
      let record = (reserved = await reservation);
      allocation = record.gpu_uuid !== null ? allocationOf(record) : undefined;
      await this.#deps.faultPoint?.('reserved');
      // 4. Slow work outside the lock.
      if (record.gpu_uuid === null && record.gpu_index !== null && record.mig_profile !== null) {
        this.#deps.progress?.(`Creating a ${record.mig_profile} MIG device on GPU ${record.gpu_index}`);
        allocation = await this.#deps.gpus.createMigDevice({
          gpu_index: record.gpu_index,
          mig_profile: record.mig_profile,
        });
        record = reserved = await this.#patch(record.id, gpuFields(allocation));
      }
      let privateKey: string | null = null;
      let authorizedKeys = ownKeys;
      if (authorizedKeys === undefined) {
        const pair = generateKeyPair(`sandman-${record.id}`);
        privateKey = pair.privateKey;
        authorizedKeys = pair.publicKey;
      }
      // Independent preparations at once. All are settled before a failure is thrown, so the undo
      // never races a key file or workspace still being written.
      let hostCredentials: HostCredentials | undefined;
      await allSucceeded([
        privateKey === null ? Promise.resolve() : keys.write(record.id, privateKey),
        this.#issueHostCredentials(record, placement?.principals).then(
          (issued) => (hostCredentials = issued),
        ),
        // Swarm mode: the home is a volume the node makes at the first start.
        placement ? Promise.resolve() : this.#deps.workspaces.ensure(record.workspace, record.uid),
        // Docker's duplicate-name check is not atomic: concurrent creates would make twin networks.
        locks
          .withLock(
            'network',
            config.lockTimeout,
            () => stateUnavailable(`network lock in ${stateDir.dir} held too long`),
            () => docker.ensureNetwork(config.network, {[LABELS.instance]: this.#instance}),
          )
          // The rules are checked outside the lock: only a repair takes it (see NetworkBoundary).
          // Swarm mode: each node keeps its own (`sandman node setup`).
          .then(() => (placement ? undefined : this.#deps.networkBoundary.ensure())),
      ]);
      this.#deps.progress?.('Starting the container');
      containerId = await docker.createContainer({
        ...this.#containerSpec(record, authorizedKeys, userEnv, request.password, hostCredentials!),
        ...(placement ? swarmSpec(record, placement) : {}),
      });
      await this.#deps.faultPoint?.('container-created');
      if (placement) record = reserved = await this.#placed(record, containerId, placement);
      else await docker.startContainer(containerId);
      await this.#deps.faultPoint?.('container-started');
      if (request.wait) {
        this.#deps.progress?.(`Waiting for SSH on port ${record.ssh_port}`);
        await this.#waitForSsh(record, containerId);
      }
      let password: string | undefined;
      if (request.password) password = await this.#setPassword(containerId, record.user);

      // 5. Commit.
      await this.#deps.faultPoint?.('before-commit');
      record = await this.#commit(record.id, containerId, {
        authorized_keys: authorizedKeys,
        host_public_key: hostCredentials!.publicKey,
        password_auth: request.password,
      });
      return {
        ...toSessionView(record),
        ssh_private_key: privateKey,
        ...(password === undefined ? {} : {ssh_password: password}),
        ...(gpuPlan.note ? {gpu_note: gpuPlan.note} : {}),
        gpu_fraction: record.gpu_uuid
          ? (gpuPlan.fraction?.(record.gpu_index, record.mig_profile) ?? null)
          : null,
      };
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    } finally {
      stopListening();
    }
  }

  /**
   * Swarm mode: waits until Swarm has started the session on its node, then records the device
   * Swarm gave it. A session Swarm cannot place is exit 5, naming what is free on that node.
   */
  async #placed(record: SessionRecord, serviceId: string, placement: SwarmPlacement): Promise<SessionRecord> {
    const cluster = this.#deps.cluster!;
    this.#deps.progress?.('Waiting for Swarm to place the session');
    try {
      await this.#deps.docker.startContainer(serviceId);
    } catch (error) {
      if (!isSandmanError(error) || error.kind !== 'CAPACITY') throw error;
      const [nodes, tasks] = await Promise.all([
        cluster.nodes(),
        cluster.tasks({[LABELS.instance]: this.#instance}),
      ]);
      const free = freeResources(nodes, tasks).get(record.node!) ?? [];
      const freeNow = describeResources([{name: record.node!, resources: free}]);
      throw capacity(
        placement.kind
          ? `no free ${deviceName(placement)} on node ${record.node}: ${error.message}; free now: ${freeNow}`
          : `no room for the session on node ${record.node}: ${error.message}`,
      );
    }
    const {devices} = await placementOf(cluster, {[LABELS.session]: record.id});
    return placement.kind ? this.#patch(record.id, {gpu_uuid: devices[0]?.value ?? null}) : record;
  }

  async #reserve(
    user: string,
    ttl: number,
    sshHost: string,
    makeKey: boolean,
    pickGpu: GpuPlan['pick'],
    placement: SwarmPlacement | undefined,
    limits: EffectiveLimits,
    fromQueue?: string,
  ): Promise<SessionRecord> {
    const {config, store, clock} = this.#deps;
    const workspace = placement ? homeVolume(user) : workspacePath(config.workspaceRoot, user);
    const owner = placement ? undefined : await this.#deps.workspaces.owner(workspace);
    return store.update(async (state) => {
      const existing = state.sessions.filter((session) => session.user === user);
      const {value: most, source} = limits.userMaxSessions;
      if (existing.length >= most) {
        const first = existing[0]!;
        // The one-session rule of SPEC section 2 (the default) stays a conflict; a limit someone
        // set is a policy refusal.
        if (most === 1 && source === 'setting')
          throw conflict(
            `user ${user} already has session ${first.id} (${first.status}, expires ${first.expires_at}); ` +
              `remove it with "sandman session rm ${first.id}" or extend it`,
            {session_id: first.id},
          );
        throw policy(
          `${user} has ${existing.length} session(s) (${existing.map((session) => session.id).join(', ')}) and may ` +
            `have at most ${most} (userMaxSessions, from ${source})`,
          {sessions: existing.map((session) => session.id)},
        );
      }
      if (config.maxSessions !== undefined && state.sessions.length >= config.maxSessions) {
        throw capacity(
          `${state.sessions.length} session(s) exist and maxSessions is ${config.maxSessions}: ` +
            `remove one ("sandman session rm") or raise maxSessions`,
        );
      }
      const held = heldDevices(state.sessions);
      const gpu = pickGpu(held, pendingCreations(state.sessions));
      // Checked on the device picked, so every way of asking (profile, UUID, default) is covered.
      if (gpu) checkProfile(user, gpu.mig_profile, limits);
      const port = await allocatePort({
        start: config.sshPortStart,
        end: config.sshPortEnd,
        used: state.sessions.map((session) => session.ssh_port),
        isFree: this.#deps.portProbe,
      });
      const uid = this.#uidFor(state, user, owner);
      // Swarm mode: the node is settled here, under the lock, so concurrent creates share it out.
      const node = placement ? chooseNode(placement, state.sessions, user) : undefined;
      const now = clock.now();
      // A queued request leaves the line in the same write that reserves its session: two
      // processes draining at once start it once.
      if (fromQueue) {
        if (!state.queue?.some((entry) => entry.id === fromQueue))
          throw new SandmanError('CONFLICT', `queued request ${fromQueue} was started or ended meanwhile`, {
            details: {queued_gone: true},
          });
        state.queue = state.queue.filter((entry) => entry.id !== fromQueue);
      }
      const id = fromQueue ?? newSessionId();
      const record: SessionRecord = {
        id,
        user,
        status: 'creating',
        container_id: null,
        container_name: containerName(user, id),
        image: config.image,
        ssh_port: port,
        ssh_host: node?.address ?? sshHost,
        ssh_private_key_path: makeKey ? this.#deps.keys.pathFor(id) : null,
        gpu_uuid: gpu && !isPending(gpu) ? gpu.gpu_uuid : null,
        gpu_index: gpu ? gpu.gpu_index : null,
        // Swarm mode: the profile asked for; the device is known once Swarm has placed the task.
        mig_profile: placement ? placement.profile : gpu ? gpu.mig_profile : null,
        mig_created: false,
        mig_gpu_instance: null,
        mig_compute_instance: null,
        uid,
        workspace,
        created_at: isoSeconds(now),
        expires_at: isoSeconds(new Date(now.getTime() + ttl)),
        creator_pid: this.#deps.processes.pid,
        ...(node ? {node: node.name, gpu_kind: placement?.kind ?? null} : {}),
      };
      state.sessions.push(record);
      return record;
    });
  }

  #uidFor(state: StateData, user: string, workspaceOwnerUid: number | undefined): number {
    const known = state.users[user];
    if (known) return known.uid;
    const uid = chooseUid(
      Object.values(state.users).map((entry) => entry.uid),
      workspaceOwnerUid,
    );
    state.users[user] = {uid};
    return uid;
  }

  async #commit(id: string, containerId: string, details: Partial<SessionRecord>): Promise<SessionRecord> {
    return this.#deps.store.update((state) => {
      const record = state.sessions.find((session) => session.id === id);
      if (!record) throw new SandmanError('FAILURE', `session ${id} was removed while it was being created`);
      Object.assign(record, details, {status: 'running', container_id: containerId});
      // Swarm mode: the user's home volume is on this node now; their next sessions go there too.
      const user = state.users[record.user];
      if (record.node && user) user.node = record.node;
      countersOf(state).sessions_created_total++;
      return {...record};
    });
  }

  async #patch(id: string, changes: Partial<SessionRecord>): Promise<SessionRecord> {
    return this.#deps.store.update((state) => {
      const record = state.sessions.find((session) => session.id === id);
      if (!record) {
        // The reaper released the reservation (it looked abandoned): do not resurrect it.
        throw new SandmanError('FAILURE', `session ${id} was removed while it was being created`);
      }
      Object.assign(record, changes);
      return {...record};
    });
  }

  #containerSpec(
    record: SessionRecord,
    authorizedKeys: string,
    userEnv: Map<string, string>,
    password: boolean,
    hostCredentials: HostCredentials,
  ): ContainerSpec {
    const {config} = this.#deps;
    const env = [
      `SANDMAN_USER=${record.user}`,
      `SANDMAN_UID=${record.uid}`,
      `SANDMAN_SESSION_ID=${record.id}`,
      `SANDMAN_AUTHORIZED_KEYS=${authorizedKeysUntil(authorizedKeys, record.expires_at)}`,
      `SANDMAN_PASSWORD_AUTH=${password ? 'yes' : 'no'}`,
      `SANDMAN_EXPIRES_AT=${record.expires_at}`,
      `SANDMAN_BANNER=${loginBanner(record)}`,
      `SANDMAN_USER_ENV=${[...userEnv.keys()].join(',')}`,
      ...[...userEnv].map(([name, value]) => `${name}=${value}`),
    ];
    return {
      name: record.container_name,
      image: config.image,
      hostname: `sandman-${record.user}`,
      labels: {
        [LABELS.session]: record.id,
        [LABELS.user]: record.user,
        [LABELS.expiresAt]: record.expires_at,
        [LABELS.instance]: this.#instance,
      },
      env,
      network: config.network,
      bindAddress: config.bindAddress,
      hostPort: record.ssh_port,
      mount: {source: record.workspace, target: `/home/${record.user}`},
      files: hostKeyFiles(hostCredentials),
      capAdd: SSHD_CAPABILITIES,
      pidsLimit: config.pids,
      memoryBytes: config.memory,
      nanoCpus: config.cpus === undefined ? undefined : Math.round(config.cpus * 1e9),
      gpuUuid: record.gpu_uuid ?? undefined,
    };
  }

  async #waitForSsh(record: SessionRecord, containerId: string): Promise<void> {
    const {config, docker} = this.#deps;
    // Swarm mode: the port is published on the node the session runs on.
    const host = this.#deps.cluster ? record.ssh_host : localAddress(config.bindAddress);
    const ready = await this.#deps.sshProbe.waitForBanner({
      host,
      port: record.ssh_port,
      timeoutMs: config.readyTimeout,
      check: async () => {
        const state = await docker.inspectContainer(containerId);
        if (state && (!state.running || state.restartCount > 0)) {
          // A crash loop under the restart policy shows as "restarting" or "running again", with an
          // exit code that is not the crash's; only a container at rest has a trustworthy one.
          const crashLoop = state.restarting || state.restartCount > 0;
          const how = crashLoop
            ? `keeps exiting (restarted ${state.restartCount} times)`
            : `exited with code ${state.exitCode}`;
          throw new SandmanError(
            'FAILURE',
            `container ${record.container_name} ${how} before SSH was ready; ` +
              `its last output: ${await this.#lastLogLines(containerId)}`,
          );
        }
      },
    });
    if (!ready) {
      throw new SandmanError(
        'FAILURE',
        `SSH on port ${record.ssh_port} did not answer within ${config.readyTimeout / 1000}s (readyTimeout); ` +
          `the session was removed. Container output: ${await this.#lastLogLines(containerId)}`,
      );
    }
  }

  async #lastLogLines(containerId: string): Promise<string> {
    try {
      const stream = await this.#deps.docker.logs(containerId, {follow: false, tail: 5});
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
      return Buffer.concat(chunks).toString('utf8').trim().replace(/\n/g, ' | ') || '(none)';
    } catch {
      return '(unavailable)';
    }
  }

  async #setPassword(containerId: string, user: string): Promise<string> {
    // 18 random bytes → 24 base64url characters; handed to chpasswd on stdin, never to env or state.
    const password = randomBytes(18).toString('base64url');
    const result = await this.#deps.docker.exec(containerId, ['chpasswd'], `${user}:${password}\n`);
    if (result.exitCode !== 0) {
      throw new SandmanError(
        'FAILURE',
        `could not set the password in the container: ${result.stderr.trim()}`,
      );
    }
    return password;
  }

  /** Undoes a create that failed or was interrupted: container, key, GPU device, record. */
  async #undoCreate(
    record: SessionRecord,
    containerId: string | undefined,
    allocation: GpuAllocation | undefined,
  ) {
    const {docker, keys, store} = this.#deps;
    const problems: string[] = [];
    try {
      await docker.removeContainer(containerId ?? record.container_name);
    } catch (error) {
      problems.push((error as Error).message);
    }
    await keys.remove(record.id).catch((error: unknown) => problems.push((error as Error).message));
    if (allocation) {
      await this.#deps.gpus
        .release(allocation)
        .catch((error: unknown) => problems.push((error as Error).message));
    }
    await store
      .update((state) => {
        state.sessions = state.sessions.filter((session) => session.id !== record.id);
      })
      .catch((error: unknown) => problems.push((error as Error).message));
    if (problems.length > 0) {
      throw new SandmanError(
        'FAILURE',
        `cleanup after the failed create was incomplete: ${problems.join('; ')}`,
      );
    }
  }

  /** Removes sessions: container gone, GPU slice released, key deleted, record removed; workspace kept. */
  async remove(references: string[]): Promise<RemoveResult> {
    const result = await this.#remove(references);
    // What was freed may be what a queued request waits for.
    if (result.removed.length > 0)
      await this.queue.drain().catch((error: unknown) => {
        this.#deps.warn(`could not start a queued request: ${(error as Error).message}`);
      });
    return result;
  }

  async #remove(references: string[]): Promise<RemoveResult> {
    const state = await this.#deps.store.read();
    const targets: SessionRecord[] = [];
    const errors: RemoveError[] = [];
    const cancelled: string[] = [];
    for (const reference of references) {
      // A queued request (by its ID or user) leaves the line.
      const queued = state.queue?.find((entry) => entry.id === reference || entry.user === reference);
      if (
        queued &&
        !state.sessions.some((session) => session.id === reference || session.user === reference)
      ) {
        if (await this.queue.cancel(queued.id)) {
          cancelled.push(queued.id);
          continue;
        }
      }
      try {
        const session = resolveSession(state.sessions, reference);
        if (!targets.some((target) => target.id === session.id)) targets.push(session);
      } catch (error) {
        if (!isSandmanError(error)) throw error;
        errors.push({reference, error});
      }
    }
    if (targets.length > 0) await this.#deps.docker.ping();
    // Containers are removed a few at a time: Docker handles that well, and `rm --all` stays quick.
    const outcomes: Array<SessionView | RemoveError> = [];
    for (let index = 0; index < targets.length; index += PARALLEL_REMOVALS) {
      const batch = targets.slice(index, index + PARALLEL_REMOVALS);
      outcomes.push(...(await Promise.all(batch.map((session) => this.#removeOne(session)))));
    }
    const removed = outcomes.filter((outcome): outcome is SessionView => !('error' in outcome));
    errors.push(...outcomes.filter((outcome): outcome is RemoveError => 'error' in outcome));
    return {removed, errors, cancelled};
  }

  async #removeOne(session: SessionRecord): Promise<SessionView | RemoveError> {
    try {
      await this.teardown(session);
      await this.#recorded({action: 'rm', session: session.id, user: session.user, result: 'ok'});
      return toSessionView(session);
    } catch (error) {
      await this.#recorded({
        action: 'rm',
        session: session.id,
        user: session.user,
        result: 'failed',
        reason: (error as Error).message,
      });
      return {
        reference: session.id,
        error: isSandmanError(error) ? error : new SandmanError('FAILURE', (error as Error).message),
      };
    }
  }

  async removeAll(): Promise<RemoveResult> {
    const state = await this.#deps.store.read();
    return this.remove([...state.sessions, ...(state.queue ?? [])].map((entry) => entry.id));
  }

  /**
   * Releases everything a session holds. Safe to run twice or concurrently (rm and reap racing):
   * each step treats "already gone" as done, and the record goes last so a failure can be retried.
   */
  async teardown(session: SessionRecord): Promise<void> {
    const {docker, keys, store} = this.#deps;
    // By name: it finds the container (Swarm: the service and its secrets) even once its ID is gone.
    await docker.removeContainer(session.container_name);
    await keys.remove(session.id);
    if (session.gpu_uuid) await this.#deps.gpus.release(allocationOf(session));
    await store.update((state) => {
      state.sessions = state.sessions.filter((record) => record.id !== session.id);
    });
  }

  /**
   * Brings back a session whose container is not running (README "Host restarts and reboots"):
   * started again when its GPU device still exists; moved to a free device of the same profile
   * (dynamic mode: a new one) in a new container with the same port, key, workspace and expiry
   * when the device is gone; ended, with the reason, when no such device can be had.
   */
  async resume(session: SessionRecord): Promise<ResumeOutcome> {
    const {docker, gpus} = this.#deps;
    if (!session.gpu_uuid || (await gpus.present(session.gpu_uuid)) !== false) {
      await docker.startContainer(session.container_id ?? session.container_name);
      return {outcome: 'started', detail: 'container started again'};
    }
    const gone = `GPU device ${session.gpu_uuid} is gone`;
    if (!session.mig_profile) return this.#end(session, `${gone} (a whole GPU cannot be replaced)`);
    if (session.authorized_keys === undefined)
      return this.#end(session, `${gone}; the record predates replacement (no keys kept)`);
    const plan = await gpus.plan({kind: 'profile', profile: session.mig_profile});
    let picked: GpuAllocation | PendingMigDevice | null;
    try {
      picked = await this.#deps.store.update((state) => {
        const others = state.sessions.filter((record) => record.id !== session.id);
        const choice = plan.pick(heldDevices(others), pendingCreations(others));
        const record = state.sessions.find((candidate) => candidate.id === session.id);
        if (!record) throw new SandmanError('FAILURE', `session ${session.id} was removed meanwhile`);
        // The device is reserved with the record, so no concurrent create is handed it.
        if (choice && !isPending(choice)) Object.assign(record, gpuFields(choice));
        return choice;
      });
    } catch (error) {
      if (isSandmanError(error) && error.kind !== 'FAILURE')
        return this.#end(session, `${gone} and ${error.message}`);
      throw error;
    }
    let allocation = picked && !isPending(picked) ? picked : undefined;
    if (picked && isPending(picked)) allocation = await gpus.createMigDevice(picked);
    if (!allocation) return this.#end(session, `${gone} and no ${session.mig_profile} device can be had`);
    const moved = await this.#recreate({...session, ...gpuFields(allocation)});
    return {outcome: 'moved', detail: `${gone}; now on ${moved.gpu_uuid}`};
  }

  /** A new container for a session, on the record's (new) device, with a new certified host key. */
  async #recreate(session: SessionRecord): Promise<SessionRecord> {
    const {docker} = this.#deps;
    const oldEnv = (await docker.containerEnv(session.container_id ?? session.container_name)) ?? [];
    const names = new Set((envValue(oldEnv, 'SANDMAN_USER_ENV') ?? '').split(',').filter(Boolean));
    const userEnv = new Map(
      oldEnv.flatMap((entry) => {
        const name = entry.slice(0, entry.indexOf('='));
        return names.has(name) ? [[name, entry.slice(name.length + 1)] as const] : [];
      }),
    );
    await docker.removeContainer(session.container_id ?? session.container_name);
    const credentials = await this.#issueHostCredentials(session);
    const containerId = await docker.createContainer(
      this.#containerSpec(
        session,
        session.authorized_keys ?? '',
        userEnv,
        session.password_auth ?? false,
        credentials,
      ),
    );
    await docker.startContainer(containerId);
    return this.#patch(session.id, {
      ...gpuFields(allocationOf(session)),
      container_id: containerId,
      host_public_key: credentials.publicKey,
    });
  }

  /** Ends a session that cannot come back, saying why in the audit log. */
  async #end(session: SessionRecord, reason: string): Promise<ResumeOutcome> {
    await this.teardown(session);
    return {outcome: 'ended', detail: reason};
  }

  /** Pushes the expiry out by `ttl`, never past `maxTtl` after creation. */
  async extend(reference: string, ttlText: string): Promise<SessionView> {
    try {
      const view = await this.#extend(reference, ttlText);
      await this.#recorded({
        action: 'extend',
        session: view.session_id,
        user: view.ssh_user,
        result: 'ok',
        expires_at: view.expires_at,
      });
      return view;
    } catch (error) {
      await this.#recorded({
        action: 'extend',
        session: null,
        user: null,
        result: 'failed',
        reason: (error as Error).message,
      });
      throw error;
    }
  }

  async #extend(reference: string, ttlText: string): Promise<SessionView> {
    const {config, clock} = this.#deps;
    const ttl = parseDuration(ttlText, 'TTL');
    // A GPU session whose user has spent their budget runs on, but is not extended.
    const current = await this.#deps.store.read();
    const target = resolveSession(current.sessions, reference);
    if (target.gpu_uuid)
      await checkBudget(
        target.user,
        effectiveLimits(config, target.user, current.users[target.user]),
        this.#deps.gpuHours,
        `cannot extend session ${target.id}: `,
      );
    const updated = await this.#deps.store.update((state) => {
      const session = resolveSession(state.sessions, reference);
      if (session.status !== 'running') {
        throw conflict(`session ${session.id} is ${session.status}; only a running session can be extended`);
      }
      const now = clock.now().getTime();
      const base = Math.max(Date.parse(session.expires_at), now);
      const next = base + ttl;
      const limits = effectiveLimits(config, session.user, state.users[session.user]);
      checkExtensionTtl(session, next, limits, config.maxTtl);
      const limit = Date.parse(session.created_at) + config.maxTtl;
      if (next > limit) {
        throw invalidInput(
          `cannot extend session ${session.id} to ${isoSeconds(new Date(next))}: sessions may last at most ` +
            `${config.maxTtl / 60_000} minutes (maxTtl) from creation, i.e. until ${isoSeconds(new Date(limit))}`,
        );
      }
      session.expires_at = isoSeconds(new Date(next));
      // A new expiry deserves a new warning.
      session.warned_at = null;
      return {...session};
    });
    await this.#refreshContainer(updated);
    return toSessionView(updated);
  }

  /**
   * The container learns the new expiry: its authorized_keys (expiry-time), its host certificate
   * (valid until then) and the login banner; sshd re-reads them on SIGHUP. A failure leaves the
   * record extended and says so: the key would stop at the old expiry.
   */
  async #refreshContainer(session: SessionRecord): Promise<void> {
    if (!session.container_id) return;
    const {docker} = this.#deps;
    try {
      const files: ContainerFile[] = [
        {path: CONTAINER_PATHS.motd, content: loginBanner(session) + '\n', mode: 0o644},
      ];
      if (session.authorized_keys) {
        files.push({
          path: CONTAINER_PATHS.authorizedKeys(session.user),
          content: authorizedKeysUntil(session.authorized_keys, session.expires_at),
          mode: 0o644,
        });
      }
      if (session.host_public_key) {
        files.push({
          path: CONTAINER_PATHS.hostCertificate,
          content: await this.#deps.hostIdentity.renew({
            hostPublicKey: session.host_public_key,
            principals: this.#principals(session),
            validBefore: new Date(session.expires_at),
          }),
          mode: 0o644,
        });
      }
      await docker.putFiles(session.container_id, files);
      if (session.host_public_key) {
        // sshd reads its host certificate at start: SIGHUP makes it start again (open connections
        // stay). Wait until it answers, so the next login does not meet the gap.
        const hup = await docker.exec(session.container_id, ['kill', '-HUP', '1']).catch(() => undefined);
        if (hup?.exitCode === 0) {
          await this.#deps.sshProbe.waitForBanner({
            host: localAddress(this.#deps.config.bindAddress),
            port: session.ssh_port,
            timeoutMs: 5_000,
          });
        }
      }
    } catch (error) {
      this.#deps.warn(
        `session ${session.id} was extended, but its container could not be told (${(error as Error).message}); ` +
          'its key and host certificate keep the old expiry',
      );
    }
  }

  /** The names a user connects with: the host name printed, and this host's own address for `sandman ssh`. */
  #principals(session: Pick<SessionRecord, 'ssh_host'>): string[] {
    return [...new Set([session.ssh_host, localAddress(this.#deps.config.bindAddress)])];
  }

  #issueHostCredentials(record: SessionRecord, principals?: string[]): Promise<HostCredentials> {
    return this.#deps.hostIdentity.issue({
      sessionId: record.id,
      principals: principals ?? this.#principals(record),
      validBefore: new Date(record.expires_at),
    });
  }
}

/** The GPU fields of a record for an allocation. */
function gpuFields(allocation: GpuAllocation): Partial<SessionRecord> {
  return {
    gpu_uuid: allocation.gpu_uuid,
    gpu_index: allocation.gpu_index,
    mig_profile: allocation.mig_profile,
    mig_created: allocation.mig_created,
    mig_gpu_instance: allocation.mig_gpu_instance,
    mig_compute_instance: allocation.mig_compute_instance,
  };
}

/** Dynamic-mode creations other sessions have reserved but not finished. */
function pendingCreations(sessions: readonly SessionRecord[]): PendingMigDevice[] {
  return sessions.flatMap((session) =>
    session.gpu_uuid === null && session.gpu_index !== null && session.mig_profile !== null
      ? [{gpu_index: session.gpu_index, mig_profile: session.mig_profile}]
      : [],
  );
}

/** What a Swarm service adds to a session's container spec: home volume, node, GPU kind. */
function swarmSpec(record: SessionRecord, placement: SwarmPlacement): Partial<ContainerSpec> {
  return {
    mount: {source: record.workspace, target: `/home/${record.user}`, volume: true},
    ...(record.node ? {node: record.node} : {}),
    ...(placement.kind ? {genericResource: placement.kind} : {}),
  };
}

function envValue(env: string[], name: string): string | undefined {
  return env.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** Where sshd in the container finds what sandman puts there (images/workspace/entrypoint.sh). */
const CONTAINER_PATHS = {
  hostKey: '/etc/ssh/sandman/ssh_host_ed25519_key',
  hostCertificate: '/etc/ssh/sandman/ssh_host_ed25519_key-cert.pub',
  authorizedKeys: (user: string) => `/etc/ssh/sandman_authorized_keys/${user}`,
  motd: '/etc/motd',
};

function hostKeyFiles(credentials: HostCredentials): ContainerFile[] {
  return [
    {path: CONTAINER_PATHS.hostKey, content: credentials.privateKey, mode: 0o600},
    {path: CONTAINER_PATHS.hostCertificate, content: credentials.certificate, mode: 0o644},
  ];
}

/** Waits for every promise; then throws the first failure, if any. */
async function allSucceeded(work: Array<Promise<unknown>>): Promise<void> {
  const failure = (await Promise.allSettled(work)).find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}
