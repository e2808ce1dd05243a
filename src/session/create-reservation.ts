/** A create's reservation in the state file, and its undo when the create fails. */
import {isoSeconds} from '../core/clock.js';
import {capacity, conflict, policy, SandmanError} from '../core/errors.js';
import {isPending, type GpuAllocation} from '../gpu/gpu-allocator.js';
import {containerName} from '../core/labels.js';
import {allocatePort} from '../network/ports.js';
import {heldDevices, type SessionRecord, type StateData} from '../state/state-data.js';
import {chooseUid} from '../users/uids.js';
import {type EffectiveLimits} from '../users/user-limits.js';
import {checkProfile} from '../users/user-policy.js';
import type {RuntimeCreate} from '../runtime/session-runtime.js';
import {type SessionServiceDeps} from './session-context.js';
import {newSessionId, pendingCreations} from './session-records.js';

/**
 * Under the state lock: the session's record, its port, its user's UID and its place under the
 * limits, before anything outside the state file is made.
 */
export async function reserveSession(
  deps: SessionServiceDeps,
  user: string,
  ttl: number,
  makeKey: boolean,
  plan: RuntimeCreate,
  limits: EffectiveLimits,
  fromQueue?: string,
  onlyIfNone?: boolean,
): Promise<SessionRecord> {
  const {config, store, clock} = deps;
  const {workspace, owner} = await deps.runtime.home(user);
  return store.update(async (state) => {
    const existing = state.sessions.filter((session) => session.user === user);
    // The gateway's spawn on connect: concurrent first connections of one user make one session.
    const waiting = state.queue?.find((entry) => entry.user === user && entry.kind !== 'job');
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
    // A stopped session gave its place back (docs/admin/sessions.md "Stop and start").
    const active = state.sessions.filter((session) => session.status !== 'stopped').length;
    if (config.maxSessions !== undefined && active >= config.maxSessions) {
      throw capacity(
        `${active} session(s) exist and maxSessions is ${config.maxSessions}: ` +
          `remove one ("sandman session rm") or raise maxSessions`,
      );
    }
    const held = heldDevices(state.sessions, state.jobs);
    // Running batch jobs hold devices too, and may be making one (docs/admin/jobs.md).
    const running = (state.jobs ?? []).filter((job) => job.state === 'running');
    const gpu = plan.pick(held, pendingCreations([...state.sessions, ...running]));
    // Checked on the device picked, so every way of asking (profile, UUID, default) is covered.
    if (gpu) checkProfile(user, gpu.mig_profile, limits);
    const port = !config.directPorts
      ? 0
      : await allocatePort({
          start: config.sshPortStart,
          end: config.sshPortEnd,
          used: state.sessions.map((session) => session.ssh_port),
          isFree: deps.portProbe,
        });
    const uid = await uidFor(deps, state, user, owner === undefined ? undefined : {dir: workspace, owner});
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
      ssh_private_key_path: makeKey ? deps.keys.pathFor(id) : null,
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
      creator_pid: deps.processes.pid,
      ...where,
    };
    state.sessions.push(record);
    return record;
  });
}

export async function uidFor(
  deps: SessionServiceDeps,
  state: StateData,
  user: string,
  workspace?: {dir: string; owner: number},
): Promise<number> {
  const known = state.users[user];
  if (known) return known.uid;
  const uid = await chooseUid(
    {range: deps.config.uidRange, accounts: deps.hostAccounts},
    user,
    Object.values(state.users).map((entry) => entry.uid),
    workspace,
  );
  state.users[user] = {uid};
  return uid;
}

/** Undoes a create that failed or was interrupted: container, key, GPU device, record. */
export async function undoCreate(
  deps: SessionServiceDeps,
  record: SessionRecord,
  containerId: string | undefined,
  allocation: GpuAllocation | undefined,
) {
  const {docker, keys, store} = deps;
  const problems: string[] = [];
  try {
    await docker.removeContainer(containerId ?? record.container_name);
  } catch (error) {
    problems.push((error as Error).message);
  }
  await keys.remove(record.id).catch((error: unknown) => problems.push((error as Error).message));
  if (allocation) {
    await deps.gpus.release(allocation).catch((error: unknown) => problems.push((error as Error).message));
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
