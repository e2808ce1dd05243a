import {isSandmanError, SandmanError} from '../core/errors.js';
import {IMAGE_LABELS} from '../core/labels.js';
import {isPending, type GpuAllocation, type PendingMigDevice} from '../gpu/gpu-allocator.js';
import {heldDevices, type SessionRecord} from '../state/state-data.js';
import {SessionContext, type SessionServiceDeps, type ResumeOutcome} from './session-context.js';
import {allocationOf, gpuFields, pendingCreations, userEnvOf} from './session-records.js';

/**
 * A session whose container is not running after a reboot (docs/admin/reaper.md "Host restarts and reboots"):
 * started again, moved to another device of its profile, or ended with the reason.
 */
export class ResumeWorkflow {
  readonly #deps: SessionServiceDeps;
  readonly #ctx: SessionContext;
  readonly #teardown: (session: SessionRecord) => Promise<void>;

  constructor(ctx: SessionContext, teardown: (session: SessionRecord) => Promise<void>) {
    this.#ctx = ctx;
    this.#deps = ctx.deps;
    this.#teardown = teardown;
  }

  /**
   * Brings back a session whose container is not running (docs/admin/reaper.md "Host restarts and reboots"):
   * started again when its GPU device still exists; moved to a free device of the same profile
   * (dynamic mode: a new one) in a new container with the same port, key, workspace and expiry
   * when the device is gone; ended, with the reason, when no such device can be had.
   */
  async resume(session: SessionRecord): Promise<ResumeOutcome> {
    const {docker, gpus} = this.#deps;
    // A home image (quotaMode loop) is mounted again after a reboot before the container uses it.
    await (await this.#deps.homeQuotas?.())?.quotas?.ready(session.workspace);
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
        const choice = plan.pick(heldDevices(others, state.jobs), pendingCreations(others));
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
    const userEnv = userEnvOf(
      (await docker.containerEnv(session.container_id ?? session.container_name)) ?? [],
    );
    await docker.removeContainer(session.container_id ?? session.container_name);
    const credentials = await this.#ctx.issueHostCredentials(session);
    // The new container runs today's image: it reads the session's files from the host only if
    // that image does; otherwise they go back inside the container (from its environment).
    const labels = await docker.imageLabels(this.#deps.config.image);
    let sessionFilesDir = await this.#deps.keys.sessionFilesDir(session.id);
    if (sessionFilesDir && labels?.[IMAGE_LABELS.sessionFiles] !== '1') {
      await this.#deps.keys.removeSessionFiles(session.id);
      sessionFilesDir = undefined;
    }
    const containerId = await docker.createContainer(
      this.#ctx.containerSpec(
        session,
        session.authorized_keys ?? '',
        userEnv,
        session.password_auth ?? false,
        await this.#ctx.placeHostKey(session, credentials),
        sessionFilesDir,
      ),
    );
    await docker.startContainer(containerId);
    return this.#ctx.patch(session.id, {
      ...gpuFields(allocationOf(session)),
      container_id: containerId,
      host_public_key: credentials.publicKey,
    });
  }

  /** Ends a session that cannot come back, saying why in the audit log. */
  async #end(session: SessionRecord, reason: string): Promise<ResumeOutcome> {
    await this.#teardown(session);
    return {outcome: 'ended', detail: reason};
  }
}
