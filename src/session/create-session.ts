import {randomBytes} from 'node:crypto';
import {isoSeconds} from '../clock.js';
import {
  capacity,
  conflict,
  dependencyUnavailable,
  isSandmanError,
  policy,
  SandmanError,
  stateUnavailable,
} from '../errors.js';
import {isPending, type GpuAllocation} from '../gpu/gpu-allocator.js';
import type {HostCredentials} from '../host-identity.js';
import {containerName, IMAGE_LABELS, LABELS} from '../labels.js';
import {allocatePort} from '../ports.js';
import {generateKeyPair} from '../ssh/ssh-keys.js';
import {countersOf, heldDevices, type SessionRecord, type StateData} from '../state/state-data.js';
import {chooseUid, refuseKeptUid} from '../users/uids.js';
import {parseEnvAssignments} from './env-vars.js';
import {resolveSession} from './resolve.js';
import {toSessionView} from './session-view.js';
import {validateGpuChoice} from '../gpu/gpu-choice.js';
import {SessionQueue, type QueuedView} from './session-queue.js';
import {effectiveLimits, type EffectiveLimits} from '../users/user-limits.js';
import {checkBudget, checkProfile, sessionTtl, withUserDefaults} from '../users/user-policy.js';
import type {RuntimeCreate} from '../runtime/session-runtime.js';
import {lastLogLines, waitForSsh} from './ssh-readiness.js';
import {
  SessionContext,
  allocationOf,
  newSessionId,
  gpuFields,
  pendingCreations,
  type HostKeyPlace,
  type SessionServiceDeps,
  type CreateRequest,
  type CreatedSession,
} from './session-context.js';

/**
 * `session create` as readable steps (README "session create"): validate, reserve under the lock,
 * build outside it, then commit, or undo everything on a failure or a signal. A create that finds
 * nothing free can wait in line (the queue starts it through this same create).
 */
export class CreateWorkflow {
  readonly #deps: SessionServiceDeps;
  readonly #ctx: SessionContext;
  /** The queue, made after this workflow (it starts queued requests through create). */
  readonly #queue: () => SessionQueue;

  constructor(ctx: SessionContext, queue: () => SessionQueue) {
    this.#ctx = ctx;
    this.#deps = ctx.deps;
    this.#queue = queue;
  }

  async create(request: CreateRequest): Promise<CreatedSession> {
    try {
      return await this.#createAudited(request);
    } catch (error) {
      // A failed create's undo may have freed what a queued request waits for.
      if (!request.fromQueue)
        await this.#queue()
          .drain()
          .catch(() => undefined);
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
        return this.#queue().enqueue(request, error, newSessionId());
      throw error;
    }
  }

  async #createAudited(request: CreateRequest): Promise<CreatedSession> {
    try {
      const created = await this.#create(request);
      await this.#ctx.recorded({
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
      // The gateway's "only if none" found a session another connection made: nothing failed.
      const spared = isSandmanError(error) && error.details?.only_if_none;
      if (
        !spared &&
        !(request.fromQueue && waiting) &&
        !(request.queue && isSandmanError(error) && error.kind === 'CAPACITY')
      )
        await this.#ctx.recorded({
          action: 'create',
          session: null,
          user: request.user,
          result: 'failed',
          reason: (error as Error).message,
        });
      throw error;
    }
  }

  async #create(given: CreateRequest): Promise<CreatedSession> {
    const {config, docker, keys, locks, stateDir} = this.#deps;
    // 0. A registered user's defaults fill in what the request leaves open, and their registered
    // keys are what the session accepts (README "Users and limits").
    const person = (await this.#deps.store.read()).users[given.user];
    const request = withUserDefaults(given, person);
    const limits = effectiveLimits(config, given.user, person);
    // 1. Validate everything that needs no outside system, so bad input never reserves anything.
    const ttl = sessionTtl(request.ttl, {name: request.user, record: person}, config, limits);
    validateGpuChoice(request.gpu);
    // A profile asked by name is refused before anything looks for one (the device picked is
    // checked again under the lock, for every other way of asking).
    if (request.gpu.kind === 'profile') checkProfile(request.user, request.gpu.profile, limits);
    const userEnv = parseEnvAssignments(request.env);
    const registeredKeys = person?.keys?.length ? person.keys.map((key) => key.line).join('\n') : undefined;
    // sshpk (every key type people use) loads only when keys are given.
    const ownKeys = request.authorizedKeys
      ? (await import('../ssh/authorized-keys.js')).parseAuthorizedKeys(
          request.authorizedKeys.text,
          `--ssh-key ${request.authorizedKeys.source}`,
        )
      : registeredKeys;
    if (request.gpu.kind !== 'none') await checkBudget(request.user, limits, this.#deps.gpuHours);
    // A quota the filesystem cannot enforce is exit 6 before anything is reserved.
    const {runtime} = this.#deps;
    const homeQuota = await runtime.homeQuota(limits.quota);
    runtime.checkCreate(request);

    // 2. Outside systems that must be there before anything is reserved, asked at once (nvidia-smi
    // alone can take longer than the engine's answers); their refusals keep their order: the
    // engine, a kept uid a host account has taken, the runtime's first (the Swarm placement), the
    // image, the runtime's plan (the GPUs).
    let engine!: {answered: () => void; failed: (error: unknown) => void};
    const engineChecked = new Promise<void>((answered, failed) => (engine = {answered, failed}));
    // A runtime that does not wait for it must not leave its refusal unhandled.
    engineChecked.catch(() => undefined);
    const planning = runtime.planCreate(
      {user: request.user, gpu: request.gpu, pinned: person?.node, requested: request.node},
      engineChecked,
    );
    // Its refusals are read after the engine's answers below: until then they are not unhandled
    // (Node would end the process on a plan refused while the engine is still answering).
    planning.first.catch(() => undefined);
    planning.plan.catch(() => undefined);
    const [pinged, imageLabels, keptUid] = await Promise.allSettled([
      docker.ping(),
      docker.imageLabels(config.image),
      // The home's uid, when sandman keeps one, must still be no host account's (a new one is
      // chosen clear of them under the lock).
      person ? refuseKeptUid(this.#deps.hostAccounts, request.user, person.uid) : Promise.resolve(),
    ]);
    const engineRefusal = [pinged, keptUid].find((result) => result.status === 'rejected');
    if (engineRefusal) engine.failed(engineRefusal.reason);
    else engine.answered();
    // Everything asked has answered before any refusal is thrown (nothing left running behind it).
    const [first, planned] = await Promise.allSettled([planning.first, planning.plan]);
    settled(pinged);
    settled(keptUid);
    settled(first);
    const labels = settled(imageLabels);
    if (!labels) {
      throw dependencyUnavailable(
        `image ${config.image} not found in the Docker engine; build it with "sandman image build" (or set --image)`,
      );
    }
    // An image that reads the session's files from the host: start and extend then rewrite them
    // there instead of copying them into the container (a runtime without host files: no).
    const filesOnHost = !!runtime.hostFiles && labels[IMAGE_LABELS.sessionFiles] === '1';
    const plan = settled(planned);

    // 3. Reserve port, GPU slice, uid and a "creating" record under the lock. The signal handler
    // is in place before the reservation starts: a signal while the record is being written waits
    // for it and then releases it, so no moment leaves a record for the reaper's stale sweep.
    const reservation = this.#reserve(
      request.user,
      ttl,
      ownKeys === undefined,
      plan,
      limits,
      request.fromQueue,
      request.onlyIfNone,
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
        record = reserved = await this.#ctx.patch(record.id, gpuFields(allocation));
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
      let hostKey: HostKeyPlace | undefined;
      let gatewayKey = '';
      let sessionFilesDir: string | undefined;
      const accepted = authorizedKeys;
      await allSucceeded([
        privateKey === null ? Promise.resolve() : keys.write(record.id, privateKey),
        this.#ctx.issueHostCredentials(record, plan.principals).then(async (issued) => {
          hostCredentials = issued;
          hostKey = await this.#ctx.placeHostKey(record, issued);
        }),
        // A runtime that makes no home itself has it made where the session starts (a Swarm volume).
        runtime.prepareHome?.(
          record,
          homeQuota ? {quotas: homeQuota, bytes: limits.quota.value!} : undefined,
        ) ?? Promise.resolve(),
        // Docker's duplicate-name check is not atomic: concurrent creates would make twin networks.
        locks
          .withLock(
            'network',
            config.lockTimeout,
            () => stateUnavailable(`network lock in ${stateDir.dir} held too long`),
            () => docker.ensureNetwork(config.network, {[LABELS.instance]: this.#ctx.instance}),
          )
          // The SSH gateway reaches the session from the network's own address (README "The SSH gateway").
          .then(async (gateways) => (gatewayKey = await this.#ctx.gatewayKey(gateways)))
          // Its keys (the gateway's among them) and banner, where an image that reads them from the
          // host finds them (README "Files").
          .then(async () => {
            if (!filesOnHost) return;
            const files = this.#ctx.sessionFiles({...record, gateway_key: gatewayKey || undefined}, accepted);
            sessionFilesDir = await keys.writeSessionFiles(record.id, files);
          }),
      ]);
      this.#deps.progress?.('Starting the container');
      if (gatewayKey) record = {...record, gateway_key: gatewayKey};
      const made = docker.createContainer({
        ...this.#ctx.containerSpec(record, accepted, userEnv, request.password, hostKey, sessionFilesDir),
        ...plan.spec(record),
      });
      // The rules are checked while the engine makes the container (iptables runs beside it): they
      // must hold before it starts, not before it exists. Outside the lock (only a repair takes it,
      // see NetworkBoundary). A runtime without them: each node keeps its own (`sandman node setup`).
      const rulesHold = runtime.ensureRules ? runtime.ensureRules() : Promise.resolve();
      try {
        containerId = await made;
      } finally {
        // Settled before anything goes on, a failure included (the undo then runs with no
        // iptables call still going).
        await rulesHold.catch(() => undefined);
      }
      await rulesHold;
      await this.#deps.faultPoint?.('container-created');
      const started = await plan.start(record, containerId, this.#deps.progress);
      if (Object.keys(started).length > 0) record = reserved = await this.#ctx.patch(record.id, started);
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
        ...(gatewayKey ? {gateway_key: gatewayKey} : {}),
      });
      return {
        ...toSessionView(record),
        ssh_private_key: privateKey,
        ...(password === undefined ? {} : {ssh_password: password}),
        ...(plan.note ? {gpu_note: plan.note} : {}),
        gpu_fraction: record.gpu_uuid
          ? (plan.fraction?.(record.gpu_index, record.mig_profile) ?? null)
          : null,
      };
    } catch (error) {
      await undo().catch(() => undefined);
      throw error;
    } finally {
      stopListening();
    }
  }

  async #reserve(
    user: string,
    ttl: number,
    makeKey: boolean,
    plan: RuntimeCreate,
    limits: EffectiveLimits,
    fromQueue?: string,
    onlyIfNone?: boolean,
  ): Promise<SessionRecord> {
    const {config, store, clock} = this.#deps;
    const {workspace, owner} = await this.#deps.runtime.home(user);
    return store.update(async (state) => {
      const existing = state.sessions.filter((session) => session.user === user);
      // The gateway's spawn on connect: concurrent first connections of one user make one session.
      const waiting = state.queue?.find((entry) => entry.user === user);
      if (onlyIfNone && (existing.length > 0 || (waiting && waiting.id !== fromQueue)))
        throw conflict(
          `user ${user} already has ${existing[0] ? `session ${existing[0].id}` : 'a queued request'}`,
          {
            session_id: existing[0]?.id ?? waiting?.id ?? null,
            only_if_none: true,
          },
        );
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
      // A stopped session gave its place back (README "Stop and start").
      const active = state.sessions.filter((session) => session.status !== 'stopped').length;
      if (config.maxSessions !== undefined && active >= config.maxSessions) {
        throw capacity(
          `${active} session(s) exist and maxSessions is ${config.maxSessions}: ` +
            `remove one ("sandman session rm") or raise maxSessions`,
        );
      }
      const held = heldDevices(state.sessions);
      const gpu = plan.pick(held, pendingCreations(state.sessions));
      // Checked on the device picked, so every way of asking (profile, UUID, default) is covered.
      if (gpu) checkProfile(user, gpu.mig_profile, limits);
      const port = !config.directPorts
        ? 0
        : await allocatePort({
            start: config.sshPortStart,
            end: config.sshPortEnd,
            used: state.sessions.map((session) => session.ssh_port),
            isFree: this.#deps.portProbe,
          });
      const uid = await this.#uidFor(state, user, owner === undefined ? undefined : {dir: workspace, owner});
      // Where it goes (Swarm mode: its node), settled under the lock so concurrent creates share out.
      const {ssh_host, mig_profile, ...where} = plan.settle(state.sessions, user);
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
        // directPorts off: no port of its own; it is reached through the gateway's.
        ...(config.directPorts ? {ssh_port: port} : {ssh_port: config.gatewayPort, published: false}),
        ssh_host,
        ssh_private_key_path: makeKey ? this.#deps.keys.pathFor(id) : null,
        gpu_uuid: gpu && !isPending(gpu) ? gpu.gpu_uuid : null,
        gpu_index: gpu ? gpu.gpu_index : null,
        mig_profile: mig_profile !== undefined ? mig_profile : gpu ? gpu.mig_profile : null,
        mig_created: false,
        mig_gpu_instance: null,
        mig_compute_instance: null,
        uid,
        workspace,
        created_at: isoSeconds(now),
        expires_at: isoSeconds(new Date(now.getTime() + ttl)),
        creator_pid: this.#deps.processes.pid,
        ...where,
      };
      state.sessions.push(record);
      return record;
    });
  }

  async #uidFor(state: StateData, user: string, workspace?: {dir: string; owner: number}): Promise<number> {
    const known = state.users[user];
    if (known) return known.uid;
    const uid = await chooseUid(
      {range: this.#deps.config.uidRange, accounts: this.#deps.hostAccounts},
      user,
      Object.values(state.users).map((entry) => entry.uid),
      workspace,
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

  async #waitForSsh(record: SessionRecord, containerId: string): Promise<void> {
    const {config, docker} = this.#deps;
    const ready = await waitForSsh(this.#deps, {
      endpoint: await this.#ctx.sshEndpoint(record),
      containerId,
      name: record.container_name,
      timeoutMs: config.readyTimeout,
    });
    if (!ready) {
      throw new SandmanError(
        'FAILURE',
        `SSH on port ${record.ssh_port} did not answer within ${config.readyTimeout / 1000}s (readyTimeout); ` +
          `the session was removed. Container output: ${await lastLogLines(docker, containerId)}`,
      );
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
}

/** The value of a settled promise, or its failure thrown. */
function settled<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}

async function allSucceeded(work: Array<Promise<unknown>>): Promise<void> {
  const failure = (await Promise.allSettled(work)).find((result) => result.status === 'rejected');
  if (failure) throw (failure as PromiseRejectedResult).reason;
}
