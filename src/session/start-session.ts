import {isoSeconds} from '../core/clock.js';
import {capacity, conflict, isSandmanError, SandmanError} from '../core/errors.js';
import {
  isPending,
  type GpuAllocation,
  type GpuChoice,
  type GpuPlan,
  type PendingMigDevice,
} from '../gpu/gpu-allocator.js';
import {containerName} from '../core/labels.js';
import {heldDevices, type SessionRecord} from '../state/state-data.js';
import {resolveSession} from './resolve.js';
import {refuseKeptUid} from '../users/uids.js';
import {waitForSsh} from './ssh-readiness.js';
import {toSessionView, type SessionView} from './session-view.js';
import {SessionContext, type SessionServiceDeps} from './session-context.js';
import {userEnvOf, gpuFields, NO_GPU, pendingCreations} from './session-records.js';
import type {QueuedView, SessionQueue} from './session-queue.js';
import type {InContainer} from '../runtime/session-runtime.js';

export interface StartResult extends SessionView {
  /** It was running already: nothing was done. */
  already: boolean;
  /** same: its own device (or none); moved: another device, in a container made from its own. */
  device: 'same' | 'moved' | 'none';
}

/**
 * `session start` (docs/admin/sessions.md "Stop and start"): brings back a session StopWorkflow (stop-session.ts)
 * stopped, with its container, port, keys, host identity and home. Start gets a device of its kind,
 * its own when still free; on another device Docker cannot change the container's device request,
 * so the stopped container is committed and a new one made from it.
 */
export class StartWorkflow {
  readonly #deps: SessionServiceDeps;
  readonly #ctx: SessionContext;
  readonly #queue: () => SessionQueue;

  constructor(ctx: SessionContext, queue: () => SessionQueue) {
    this.#ctx = ctx;
    this.#deps = ctx.deps;
    this.#queue = queue;
  }

  async start(
    reference: string,
    options: {queue?: boolean; fromQueue?: string} = {},
  ): Promise<StartResult | QueuedView> {
    try {
      const result = await this.#start(reference, options.fromQueue);
      // A new credential for the new run (stop took the old one's hash away).
      if (!result.already) {
        const record = (await this.#deps.store.read()).sessions.find((s) => s.id === result.session_id);
        if (record) await this.#ctx.issueSelfAccess(record);
      }
      if (!result.already)
        await this.#ctx.recorded({
          action: 'start',
          session: result.session_id,
          user: result.ssh_user,
          result: 'ok',
          reason: result.device,
          expires_at: result.expires_at,
          gpu_uuid: result.gpu_uuid,
          mig_profile: result.mig_profile,
        });
      return result;
    } catch (error) {
      // Nothing free: in line (`--queue`), started by whatever frees a device of its kind.
      if (options.queue && !options.fromQueue && isSandmanError(error) && error.kind === 'CAPACITY')
        return this.#enqueue(reference, error);
      // A queued start that still finds nothing free keeps waiting: no failed start.
      if (
        options.fromQueue &&
        isSandmanError(error) &&
        (error.kind === 'CAPACITY' || error.details?.queued_gone)
      )
        throw error;
      await this.#ctx.recorded({
        action: 'start',
        session: null,
        user: null,
        result: 'failed',
        reason: (error as Error).message,
      });
      throw error;
    }
  }

  async #enqueue(reference: string, refusal: SandmanError): Promise<QueuedView> {
    const session = resolveSession((await this.#deps.store.read()).sessions, reference);
    const wanted = session.stopped_gpu;
    const gpu: GpuChoice = !wanted
      ? {kind: 'none'}
      : wanted.mig_profile
        ? {kind: 'profile', profile: wanted.mig_profile}
        : {kind: 'gpu', ref: 'any'};
    return this.#queue().enqueue(
      {user: session.user, gpu, env: [], password: false, wait: true},
      refusal,
      session.id,
      session.id,
    );
  }

  async #start(reference: string, fromQueue?: string): Promise<StartResult> {
    const {config, clock, docker, runtime} = this.#deps;
    const state = await this.#deps.store.read();
    const found = resolveSession(state.sessions, reference);
    if (found.status === 'running') return {...toSessionView(found), already: true, device: 'same'};
    if (found.status !== 'stopped')
      throw conflict(`session ${found.id} is ${found.status}; only a stopped session can be started`);
    // Its home's uid may have become a host account's while it was stopped.
    await refuseKeptUid(this.#deps.hostAccounts, found.user, found.uid);
    // A session from before the gateway gets its key now, with the other files of the start.
    const session = await this.#ctx.withGatewayKey(found);
    const wanted = session.stopped_gpu ?? null;
    // Outside the lock: what nvidia-smi says (its own device, or another of its kind); a runtime
    // whose scheduler picks the device plans none.
    const plans = wanted && !session.gpu_uuid ? await runtime.startPlans?.(wanted) : undefined;

    // The TTL clock runs again from here. The stopped container learns its new expiry (keys, host
    // certificate, banner) while the reservation is made: written into a container that then does
    // not start (nothing free), the files are written again at the next start.
    const expires = isoSeconds(new Date(clock.now().getTime() + (session.remaining_ms ?? 0)));
    const ownContainer = session.container_id ?? session.container_name;
    const {inContainer} = runtime;
    const filesWritten = inContainer
      ? this.#ctx
          .renewExpiry({...session, expires_at: expires})
          .then((files) => inContainer.putFiles(ownContainer, files))
      : Promise.resolve();
    // Settled either way before anything below throws (no write racing an undo).
    const filesSettled = filesWritten.then(
      () => undefined,
      (error: unknown) => error,
    );

    // 1. Under the lock: a place under maxSessions, a device, and this process as the starter.
    const reservation = this.#deps.store.update((current) => {
      const record = current.sessions.find((candidate) => candidate.id === session.id);
      if (!record) throw new SandmanError('FAILURE', `session ${session.id} was removed meanwhile`);
      if (record.status !== 'stopped')
        throw conflict(`session ${record.id} is ${record.status}; only a stopped session can be started`);
      if (record.starter_pid && this.#deps.processes.alive(record.starter_pid))
        throw conflict(`session ${record.id} is being started by process ${record.starter_pid}`);
      // A queued start leaves the line in the same write that reserves its device (see create).
      if (fromQueue && !current.queue?.some((entry) => entry.id === fromQueue))
        throw new SandmanError('CONFLICT', `queued start ${fromQueue} was started or ended meanwhile`, {
          details: {queued_gone: true},
        });
      const active = current.sessions.filter((other) => other.status !== 'stopped').length;
      if (config.maxSessions !== undefined && active >= config.maxSessions)
        throw capacity(
          `${active} session(s) run and maxSessions is ${config.maxSessions}: stop or remove one, or raise maxSessions`,
        );
      let picked: GpuAllocation | PendingMigDevice | null = null;
      if (plans && !record.gpu_uuid) {
        const others = current.sessions.filter((other) => other.id !== record.id);
        picked = pick(plans, heldDevices(others, current.jobs), pendingCreations(others));
        if (!isPending(picked)) Object.assign(record, gpuFields(picked));
      }
      record.starter_pid = this.#deps.processes.pid;
      if (fromQueue) current.queue = current.queue!.filter((entry) => entry.id !== fromQueue);
      return {record: {...record}, picked};
    });
    // A home image (quotaMode loop) must be mounted before the container starts (after a reboot).
    await runtime.readyHome?.(session.workspace);
    const [reservedResult, filesError] = await Promise.all([
      reservation.then(
        (value) => ({value}),
        (error: unknown) => ({error}),
      ),
      filesSettled,
    ]);
    if ('error' in reservedResult) throw reservedResult.error;
    const reserved = reservedResult.value;

    let record = reserved.record;
    let allocation = reserved.picked && !isPending(reserved.picked) ? reserved.picked : undefined;
    let made: string | undefined;
    let startedOwn: string | undefined;
    const undo = async () => {
      if (made) await docker.removeContainer(made).catch(() => undefined);
      // Its own container, started but never answering: stopped again, as the record says.
      if (startedOwn) await docker.stopContainer(startedOwn).catch(() => undefined);
      if (record.start_image) await docker.removeImage(record.start_image).catch(() => undefined);
      // A device this start reserved goes back; one held since the stop stays held.
      if (allocation && !session.gpu_uuid) await this.#deps.gpus.release(allocation).catch(() => undefined);
      await this.#deps.store
        .update((current) => {
          const stored = current.sessions.find((candidate) => candidate.id === session.id);
          if (!stored) return;
          if (allocation && !session.gpu_uuid) Object.assign(stored, NO_GPU);
          Object.assign(stored, {starter_pid: null, start_image: null});
        })
        .catch(() => undefined);
    };
    const stopListening = this.#deps.signals.onTermination(undo);
    try {
      if (reserved.picked && isPending(reserved.picked)) {
        this.#deps.progress?.(
          `Creating a ${reserved.picked.mig_profile} MIG device on GPU ${reserved.picked.gpu_index}`,
        );
        allocation = await this.#deps.gpus.createMigDevice(reserved.picked);
        record = await this.#ctx.patch(record.id, gpuFields(allocation));
      }
      record = {...record, expires_at: expires};
      // A runtime whose scheduler picks the device starts the session where it is (a Swarm
      // service scaled back up); one that cannot snapshot a container never moves it.
      const moved = !!inContainer && wanted !== null && record.gpu_uuid !== wanted.gpu_uuid;
      let running: string;
      if (moved) {
        // The record keeps naming the image until the start is done: an undo removes it.
        running = await this.#recreate(record, inContainer, (id) => (made = id));
      } else {
        // Its files say the new expiry before sshd reads them at start (written above).
        if (filesError) throw filesError;
        const id = record.container_id ?? record.container_name;
        this.#deps.progress?.('Starting the container');
        startedOwn = running = id;
        await docker.startContainer(id);
      }
      this.#deps.progress?.('Waiting for SSH');
      // Counted from the start: a container started again may have restarted before.
      const restartsBefore = (await docker.inspectContainer(running))?.restartCount ?? 0;
      const ready = await waitForSsh(this.#deps, {
        endpoint: await this.#ctx.sshEndpoint(record),
        containerId: running,
        name: record.container_name,
        timeoutMs: config.readyTimeout,
        restartsBefore,
      });
      if (!ready)
        throw new SandmanError(
          'FAILURE',
          `SSH did not answer within ${config.readyTimeout / 1000}s (readyTimeout); the session stays stopped`,
        );
      const placed = wanted ? await runtime.afterStart?.(record, wanted) : undefined;
      if (placed) record = {...record, ...placed};
      const previous = session.container_id ?? session.container_name;
      const started = await this.#deps.store.update((current) => {
        const stored = current.sessions.find((candidate) => candidate.id === session.id);
        if (!stored) throw new SandmanError('FAILURE', `session ${session.id} was removed meanwhile`);
        Object.assign(stored, {
          status: 'running',
          expires_at: expires,
          ...(placed ?? {}),
          container_id: record.container_id,
          container_name: record.container_name,
          committed_image: record.committed_image ?? null,
          stopped_at: null,
          remaining_ms: null,
          stopped_gpu: null,
          gpu_hold_until: null,
          starter_pid: null,
          start_image: null,
          warned_at: null,
        } satisfies Partial<SessionRecord>);
        return {...stored};
      });
      made = undefined;
      startedOwn = undefined;
      if (moved) {
        // The new container answers: the old one and the image it replaced are not needed.
        await docker.removeContainer(previous);
        if (session.committed_image) await docker.removeImage(session.committed_image);
      }
      return {...toSessionView(started), already: false, device: !wanted ? 'none' : moved ? 'moved' : 'same'};
    } catch (error) {
      await undo();
      throw error;
    } finally {
      stopListening();
    }
  }

  /**
   * Another device: the stopped container as an image, a new container from it with the new
   * device and everything else the same (port, keys, host key and certificate, env,
   * limits, home). The record names the image first, so a start killed half-way leaves nothing
   * the reaper cannot find.
   */
  async #recreate(
    record: SessionRecord,
    inContainer: Pick<InContainer, 'commitContainer'>,
    made: (id: string) => void,
  ): Promise<string> {
    const {docker} = this.#deps;
    const old = record.container_id ?? record.container_name;
    const image = `sandman-session/${record.id}:${Date.now().toString(36)}`;
    await this.#ctx.patch(record.id, {start_image: image});
    record.start_image = image;
    this.#deps.progress?.('Saving the stopped container');
    await this.#deps.faultPoint?.('committing');
    await inContainer.commitContainer(old, image);
    const userEnv = userEnvOf((await docker.containerEnv(old)) ?? []);
    const name = `${containerName(record.user, record.id)}-${Date.now().toString(36)}`;
    // The same host key and session files: their directories, or (a session an earlier sandman or
    // image made) inside the image.
    const [hostKeyDir, sessionFilesDir] = await Promise.all([
      this.#deps.keys.hostKeyDir(record.id),
      this.#deps.keys.sessionFilesDir(record.id),
    ]);
    const spec = this.#ctx.containerSpec(
      {...record, container_name: name},
      record.authorized_keys ?? '',
      userEnv,
      record.password_auth ?? false,
      hostKeyDir ? {dir: hostKeyDir} : undefined,
      sessionFilesDir,
    );
    this.#deps.progress?.('Starting a container on the new device');
    const id = await docker.createContainer({...spec, image, files: await this.#ctx.renewExpiry(record)});
    made(id);
    await docker.startContainer(id);
    await this.#deps.faultPoint?.('new-container-started');
    record.container_id = id;
    record.container_name = name;
    record.committed_image = image;
    return id;
  }
}

/** The own device when free, else one of its kind (which says what is free when none is). */
function pick(
  plans: {own?: GpuPlan; any: GpuPlan},
  held: ReadonlySet<string>,
  pending: readonly PendingMigDevice[],
): GpuAllocation | PendingMigDevice {
  try {
    const own = plans.own?.pick(held, pending);
    if (own) return own;
  } catch (error) {
    if (!isSandmanError(error)) throw error;
  }
  const other = plans.any.pick(held, pending);
  if (!other) throw capacity('no device of its kind is free');
  return other;
}
