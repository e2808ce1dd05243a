import {randomBytes} from 'node:crypto';
import {dependencyUnavailable, isSandmanError, SandmanError, stateUnavailable} from '../core/errors.js';
import {type GpuAllocation} from '../gpu/gpu-allocator.js';
import type {HostCredentials} from '../ssh/host-identity.js';
import {IMAGE_LABELS, LABELS} from '../core/labels.js';
import {generateKeyPair} from '../ssh/ssh-keys.js';
import {countersOf, type SessionRecord} from '../state/state-data.js';
import {refuseKeptUid} from '../users/uids.js';
import {parseEnvAssignments} from './env-vars.js';
import {resolveSession} from './resolve.js';
import {toSessionView} from './session-view.js';
import {validateGpuChoice} from '../gpu/gpu-choice.js';
import {SessionQueue, type QueuedView} from './session-queue.js';
import {effectiveLimits} from '../users/user-limits.js';
import {checkBudget, checkProfile, sessionTtl, withUserDefaults} from '../users/user-policy.js';
import {lastLogLines, waitForSsh} from './ssh-readiness.js';
import {
  SessionContext,
  type SessionServiceDeps,
  type CreateRequest,
  type CreatedSession,
} from './session-context.js';
import {reserveSession, undoCreate} from './create-reservation.js';
import {allocationOf, newSessionId, gpuFields} from './session-records.js';
import {type HostKeyPlace} from './container-paths.js';

/**
 * `session create` as readable steps (docs/reference/commands.md): validate, reserve under the lock,
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
    // keys are what the session accepts (docs/admin/users-and-limits.md "Users and limits").
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
    // Both are awaited only after the engine's answers: a refusal meanwhile (no nvidia-smi answers
    // at once) must not count as unhandled, which ends Node with a stack trace instead of exit 6.
    for (const step of [planning.first, planning.plan]) step.catch(() => undefined);
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
    const reservation = reserveSession(
      this.#deps,
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
      if (record) await undoCreate(this.#deps, record, containerId, allocation);
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
          // The SSH gateway reaches the session from the network's own address (docs/admin/gateway.md "The SSH gateway").
          .then(async (gateways) => (gatewayKey = await this.#ctx.gatewayKey(gateways)))
          // Its keys (the gateway's among them) and banner, where an image that reads them from the
          // host finds them (docs/admin/upgrades-and-backups.md "Where things are").
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
      await this.#ctx.issueSelfAccess(record);
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
    // A runtime that cannot reach into containers refuses --password in its checkCreate.
    const {inContainer} = this.#deps.runtime;
    if (!inContainer)
      throw new SandmanError('FAILURE', 'this runtime cannot set a password in the container');
    const result = await inContainer.exec(containerId, ['chpasswd'], `${user}:${password}\n`);
    if (result.exitCode !== 0) {
      throw new SandmanError(
        'FAILURE',
        `could not set the password in the container: ${result.stderr.trim()}`,
      );
    }
    return password;
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
