/**
 * A batch job's submit and start (docs/admin/jobs.md): submit validates and puts it in the
 * sessions' line (always: a job never skips the queue's fairness order), and whichever sandman
 * process drains the line starts it here, in a container of its own that runs its command as
 * the user. A start that fails leaves nothing held: the job is marked failed.
 */
import {isoSeconds} from '../core/clock.js';
import {parseDuration} from '../core/duration.js';
import {
  dependencyUnavailable,
  invalidInput,
  isSandmanError,
  policy,
  SandmanError,
  stateUnavailable,
} from '../core/errors.js';
import {isPending, type GpuAllocation, type GpuChoice} from '../gpu/gpu-allocator.js';
import {validateGpuChoice} from '../gpu/gpu-choice.js';
import {LABELS} from '../core/labels.js';
import type {ContainerSpec} from '../runtime/docker/container-client.js';
import {heldDevices, type JobRecord, type QueuedRequest} from '../state/state-data.js';
import {addJobNotice} from './job-notices.js';
import {effectiveLimits, type EffectiveLimits} from '../users/user-limits.js';
import {checkBudget, checkProfile, withUserDefaults} from '../users/user-policy.js';
import {validateUserName} from '../users/user-name.js';
import {uidFor} from '../session/create-reservation.js';
import {parseEnvAssignments} from '../session/env-vars.js';
import {SSHD_CAPABILITIES, type SessionServiceDeps} from '../session/session-context.js';
import {allocationOf, newSessionId, NO_GPU, pendingCreations} from '../session/session-records.js';

export interface JobRequest {
  user: string;
  gpu: GpuChoice;
  command: string[];
  /** Default: the session image (`image`). */
  image?: string;
  /** Longest run time as typed; default jobMaxTtl (within userMaxTtl). */
  ttl?: string;
  env: string[];
  name?: string;
  /** Absolute, or relative to her home; default her home. */
  workdir?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function jobContainerName(user: string, id: string): string {
  return `sandman-job-${user}-${id}`;
}

/** The job's run time: asked (refused above jobMaxTtl, exit 2, or userMaxTtl, exit 8) or the default. */
export function jobTtl(
  asked: string | undefined,
  user: string,
  jobMaxTtl: number,
  limits: EffectiveLimits,
): number {
  if (asked === undefined) return Math.min(jobMaxTtl, limits.userMaxTtl.value);
  const ttl = parseDuration(asked, 'TTL');
  if (ttl > jobMaxTtl)
    throw invalidInput(`--ttl ${asked} is longer than jobMaxTtl (${jobMaxTtl / 60_000} minutes)`);
  if (ttl > limits.userMaxTtl.value)
    throw policy(
      `${user} may ask for at most ${limits.userMaxTtl.value / 60_000} minutes (userMaxTtl, from ` +
        `${limits.userMaxTtl.source}); asked: ${ttl / 60_000} minutes`,
    );
  return ttl;
}

/** What the line says a job waits for (the same words as a session's, so they share a line). */
export function jobWaitingFor(gpu: GpuChoice): string {
  if (gpu.kind === 'profile') return `MIG ${gpu.profile}`;
  if (gpu.kind === 'mig-instance') return `MIG device ${gpu.uuid}`;
  if (gpu.kind === 'gpu') return gpu.ref === 'any' ? 'a whole GPU' : `GPU ${gpu.ref}`;
  return 'a GPU';
}

export class JobStarter {
  constructor(private readonly deps: SessionServiceDeps) {}

  /** Validates a submit and puts the job in line; the caller drains the line. */
  async submit(given: JobRequest): Promise<JobRecord> {
    const {config, store, docker, clock} = this.deps;
    if (config.backend === 'swarm')
      throw invalidInput('jobs are not available in Swarm mode (docs/admin/jobs.md)');
    const user = validateUserName(given.user);
    if (given.command.length === 0 || given.command[0] === '')
      throw invalidInput('no command: give it after --, e.g. "sandman job submit alice -- python train.py"');
    if (given.name !== undefined && !NAME.test(given.name))
      throw invalidInput(`invalid --name ${JSON.stringify(given.name)}: letters, digits, _ . - (at most 63)`);
    if (given.workdir !== undefined && (given.workdir === '' || /[\0\n]/.test(given.workdir)))
      throw invalidInput(`invalid --workdir ${JSON.stringify(given.workdir)}`);
    parseEnvAssignments(given.env);
    const person = (await store.read()).users[user];
    const gpu = withUserDefaults({user, gpu: given.gpu, env: [], password: false, wait: false}, person).gpu;
    validateGpuChoice(gpu);
    const limits = effectiveLimits(config, user, person);
    const ttl = jobTtl(given.ttl, user, config.jobMaxTtl, limits);
    if (gpu.kind === 'profile') checkProfile(user, gpu.profile, limits);
    if (gpu.kind !== 'none') await checkBudget(user, limits, this.deps.gpuHours);
    const image = given.image ?? config.image;
    await docker.ping();
    if (!(await docker.imageLabels(image)))
      throw dependencyUnavailable(
        `image ${image} not found in the Docker engine ("sandman image build", or --image)`,
      );
    // An unknown GPU, device or profile is refused now (exit 3), not when the job's turn comes.
    await this.deps.runtime.planCreate({user, gpu}, Promise.resolve()).plan;
    const window = limits.gpuHourBudget.value?.windowMs ?? 7 * 86_400_000;
    const used = this.deps.gpuHours ? (await this.deps.gpuHours(user, window)).used : 0;
    const id = newSessionId();
    const now = isoSeconds(clock.now());
    const job: JobRecord = {
      id,
      user,
      name: given.name ?? null,
      state: 'queued',
      command: given.command,
      image,
      env: given.env,
      workdir: given.workdir ?? null,
      gpu,
      ttl_ms: ttl,
      uid: null,
      workspace: null,
      container_name: jobContainerName(user, id),
      container_id: null,
      ...NO_GPU,
      gpu_fraction: null,
      submitted_at: now,
      started_at: null,
      ended_at: null,
      expires_at: null,
      exit_code: null,
      reason: null,
      creator_pid: null,
    };
    const entry: QueuedRequest = {
      id,
      kind: 'job',
      user,
      queued_at: now,
      waiting_for: jobWaitingFor(gpu),
      gpu_hours: used,
      request: {gpu, env: []},
    };
    await store.update((state) => {
      (state.jobs ??= []).push(job);
      (state.queue ??= []).push(entry);
    });
    await this.deps.audit?.record({
      action: 'job-submit',
      session: null,
      job: id,
      user,
      result: 'ok',
      reason: given.command.join(' '),
    });
    return job;
  }

  /**
   * Starts a queued job (the queue's drain calls it, head first). CAPACITY when nothing of its kind
   * is free (it keeps its place); details.skip when its user runs userMaxJobs already; any other
   * refusal ends the job as failed and is thrown with details.queued_gone (the line goes on).
   */
  async start(id: string): Promise<JobRecord> {
    const {store, runtime} = this.deps;
    const queued = (await store.read()).jobs?.find((job) => job.id === id);
    if (!queued || queued.state !== 'queued') throw gone(id);
    let job: JobRecord | undefined;
    let allocation: GpuAllocation | undefined;
    const undo = async () => {
      const reserved = job;
      if (reserved) await this.#undo(reserved, allocation);
    };
    const stopListening = this.deps.signals.onTermination(undo);
    try {
      const person = (await store.read()).users[queued.user];
      const limits = effectiveLimits(this.deps.config, queued.user, person);
      if (queued.gpu.kind !== 'none') await checkBudget(queued.user, limits, this.deps.gpuHours);
      const plan = await runtime.planCreate({user: queued.user, gpu: queued.gpu}, Promise.resolve()).plan;
      const {workspace, owner} = await runtime.home(queued.user);
      job = await store.update(async (state) => {
        const fresh = state.jobs?.find((candidate) => candidate.id === id);
        if (!fresh || fresh.state !== 'queued' || !state.queue?.some((entry) => entry.id === id))
          throw gone(id);
        const running = (state.jobs ?? []).filter(
          (other) => other.user === fresh.user && other.state === 'running',
        ).length;
        if (running >= limits.userMaxJobs.value)
          throw new SandmanError(
            'CAPACITY',
            `${fresh.user} runs ${running} job(s) and may run ${limits.userMaxJobs.value} at once (userMaxJobs, from ${limits.userMaxJobs.source})`,
            {details: {skip: true}},
          );
        const runningJobs = (state.jobs ?? []).filter((other) => other.state === 'running');
        const gpu = plan.pick(
          heldDevices(state.sessions, state.jobs),
          pendingCreations([...state.sessions, ...runningJobs]),
        );
        if (gpu) checkProfile(fresh.user, gpu.mig_profile, limits);
        const uid = await uidFor(
          this.deps,
          state,
          fresh.user,
          owner === undefined ? undefined : {dir: workspace, owner},
        );
        const now = this.deps.clock.now();
        Object.assign(fresh, {
          state: 'running',
          uid,
          workspace,
          creator_pid: this.deps.processes.pid,
          started_at: isoSeconds(now),
          expires_at: isoSeconds(new Date(now.getTime() + fresh.ttl_ms)),
          gpu_uuid: gpu && !isPending(gpu) ? gpu.gpu_uuid : null,
          gpu_index: gpu ? gpu.gpu_index : null,
          mig_profile: gpu ? gpu.mig_profile : null,
          ...(gpu && !isPending(gpu)
            ? {
                mig_created: gpu.mig_created,
                mig_gpu_instance: gpu.mig_gpu_instance,
                mig_compute_instance: gpu.mig_compute_instance,
              }
            : {}),
          gpu_fraction: gpu ? (plan.fraction?.(gpu.gpu_index, gpu.mig_profile) ?? null) : null,
        } satisfies Partial<JobRecord>);
        state.queue = state.queue.filter((entry) => entry.id !== id);
        return {...fresh};
      });
      allocation = job.gpu_uuid ? allocationOf(job) : undefined;
      await this.deps.faultPoint?.('reserved');
      if (job.gpu_uuid === null && job.gpu_index !== null && job.mig_profile !== null) {
        allocation = await this.deps.gpus.createMigDevice({
          gpu_index: job.gpu_index,
          mig_profile: job.mig_profile,
        });
        job = await this.#patch(id, {...allocation});
      }
      await this.#prepare(job, limits);
      const made = this.deps.docker.createContainer(this.#spec(job));
      // As session create: the network boundary is checked while the engine makes the container
      // (iptables runs beside it); it must hold before the container starts, not before it exists.
      const rulesHold = this.deps.runtime.ensureRules ? this.deps.runtime.ensureRules() : Promise.resolve();
      let containerId: string;
      try {
        containerId = await made;
      } finally {
        // Settled before anything goes on, a failure included (the undo runs with no iptables call going).
        await rulesHold.catch(() => undefined);
      }
      await rulesHold;
      job = await this.#patch(id, {container_id: containerId});
      await this.deps.faultPoint?.('container-created');
      await this.deps.docker.startContainer(containerId);
      await this.deps.audit?.record({
        action: 'job-start',
        session: null,
        job: id,
        user: job.user,
        result: 'ok',
        expires_at: job.expires_at ?? undefined,
        gpu_uuid: job.gpu_uuid,
        mig_profile: job.mig_profile,
        gpu_fraction: job.gpu_fraction,
      });
      await this.deps.faultPoint?.('container-started');
      return job;
    } catch (error) {
      // Nothing reserved yet: it keeps its place (nothing free) or is someone else's now.
      if (!job && isSandmanError(error) && (error.kind === 'CAPACITY' || error.details?.queued_gone))
        throw error;
      // Something this host needs did not answer (the engine, nvidia-smi): it waits for the next try.
      if (!job && isSandmanError(error) && error.kind === 'DEPENDENCY_UNAVAILABLE')
        throw new SandmanError('CAPACITY', error.message, {details: {skip: true}});
      // Anything else ends the job: it cannot start as asked (a spent budget, a device gone, …).
      await undo().catch(() => undefined);
      await this.#fail(id, (error as Error).message);
      throw new SandmanError('FAILURE', `job ${id} could not be started: ${(error as Error).message}`, {
        details: {queued_gone: true},
      });
    } finally {
      stopListening();
    }
  }

  async #prepare(job: JobRecord, limits: EffectiveLimits): Promise<void> {
    const {config, runtime, docker, locks, stateDir} = this.deps;
    const quotas = await runtime.homeQuota(limits.quota);
    if (quotas) await quotas.apply(job.workspace!, job.uid!, limits.quota.value!);
    await this.deps.workspaces.ensure(job.workspace!, job.uid!);
    await locks.withLock(
      'network',
      config.lockTimeout,
      () => stateUnavailable(`network lock in ${stateDir.dir} held too long`),
      () => docker.ensureNetwork(config.network, {[LABELS.instance]: stateDir.instance}),
    );
  }

  /** The job's container: a session's, but its command instead of sshd and no published port. */
  #spec(job: JobRecord): ContainerSpec {
    const {config, stateDir} = this.deps;
    const userEnv = parseEnvAssignments(job.env);
    const home = `/home/${job.user}`;
    const workdir =
      job.workdir === null ? home : job.workdir.startsWith('/') ? job.workdir : `${home}/${job.workdir}`;
    return {
      name: job.container_name,
      image: job.image,
      hostname: `sandman-${job.user}`,
      labels: {
        [LABELS.job]: job.id,
        [LABELS.user]: job.user,
        [LABELS.expiresAt]: job.expires_at ?? '',
        [LABELS.instance]: stateDir.instance,
      },
      env: [
        `SANDMAN_USER=${job.user}`,
        `SANDMAN_UID=${job.uid}`,
        `SANDMAN_JOB_ID=${job.id}`,
        `SANDMAN_JOB_WORKDIR=${workdir}`,
        `SANDMAN_USER_ENV=${[...userEnv.keys()].join(',')}`,
        ...[...userEnv].map(([name, value]) => `${name}=${value}`),
      ],
      network: config.network,
      bindAddress: config.bindAddress,
      mount: {source: job.workspace!, target: home},
      files: [],
      capAdd: SSHD_CAPABILITIES,
      pidsLimit: config.pids,
      memoryBytes: config.memory,
      diskBytes: config.containerDiskLimit,
      nanoCpus: config.cpus === undefined ? undefined : Math.round(config.cpus * 1e9),
      gpuUuid: job.gpu_uuid ?? undefined,
      job: {command: job.command, logBytes: config.jobLogLimit},
    };
  }

  async #patch(id: string, changes: Partial<JobRecord>): Promise<JobRecord> {
    return this.deps.store.update((state) => {
      const job = state.jobs?.find((candidate) => candidate.id === id);
      if (!job || job.state !== 'running')
        throw new SandmanError('FAILURE', `job ${id} was ended while it was being started`);
      Object.assign(job, changes);
      return {...job};
    });
  }

  /** A start that failed half-way: its container and device go (the record is marked by #fail). */
  async #undo(job: JobRecord, allocation: GpuAllocation | undefined): Promise<void> {
    await this.deps.docker.removeContainer(job.container_name).catch(() => undefined);
    if (allocation) await this.deps.gpus.release(allocation).catch(() => undefined);
  }

  async #fail(id: string, reason: string): Promise<void> {
    const ended = await this.deps.store.update((state) => {
      const job = state.jobs?.find((candidate) => candidate.id === id);
      state.queue = (state.queue ?? []).filter((entry) => entry.id !== id);
      if (!job || (job.state !== 'queued' && job.state !== 'running')) return undefined;
      Object.assign(job, {
        state: 'failed',
        reason,
        ended_at: isoSeconds(this.deps.clock.now()),
        gpu_uuid: null,
        container_id: null,
      } satisfies Partial<JobRecord>);
      addJobNotice(state, this.deps.config, this.deps.clock.now().getTime(), job);
      return {...job};
    });
    if (ended) await this.deps.deliverNotices?.().catch(() => undefined);
    if (ended)
      await this.deps.audit?.record({
        action: 'job-end',
        session: null,
        job: id,
        user: ended.user,
        result: 'failed',
        state: 'failed',
        reason,
      });
  }
}

function gone(id: string): SandmanError {
  return new SandmanError('CONFLICT', `queued job ${id} was started or ended meanwhile`, {
    details: {queued_gone: true},
  });
}
