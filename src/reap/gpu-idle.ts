/**
 * The reaper's GPU rule (docs/admin/notifications-and-idleness.md "GPU idleness"): at each reap, every running session's device is
 * sampled (a whole GPU from nvidia-smi, a MIG device from dcgm-exporter), the sample kept in the
 * session's compact record, and a session whose device stayed under its user's idleGpuThreshold
 * for idleGpuWindow is stopped, processes on it or not. A sample that cannot be read is no
 * sample: it never fails the reap.
 */
import {dcgmUtilization, parsePrometheusText, type DcgmUtilization} from '../gpu/parse-dcgm-metrics.js';
import type {GpuStatus} from '../gpu/gpu-types.js';
import {migInstanceOf} from '../gpu/mig-instance-of.js';
import type {SessionRecord, StateData} from '../state/state-data.js';
import {effectiveLimits} from '../users/user-limits.js';
import {gpuIdleVerdict, nextGpuTrack, type GpuSample} from '../gpu/gpu-idle-verdict.js';
import type {ReapTarget} from './reap-plan.js';
import type {ReaperDeps} from './reap-types.js';

/** Samples each running session's device, records it, and returns those idle by the GPU rule. */
export async function gpuIdleTargets(
  deps: ReaperDeps,
  state: Pick<StateData, 'users'>,
  running: SessionRecord[],
  now: number,
  dryRun: boolean,
): Promise<ReapTarget[]> {
  // Sessions on other nodes are out of this host's nvidia-smi's reach (docs/admin/swarm.md).
  if (deps.config.backend === 'swarm' || !deps.smi) return [];
  const ruled = running.filter((session) => {
    const window = effectiveLimits(deps.config, session.user, state.users[session.user]).idleGpuWindow.value;
    return session.gpu_uuid && session.container_id && window > 0;
  });
  if (ruled.length === 0) return [];
  const samples = await readSamples(deps, ruled);
  const targets: ReapTarget[] = [];
  const tracks = new Map<string, SessionRecord['gpu_util']>();
  for (const session of ruled) {
    const limits = effectiveLimits(deps.config, session.user, state.users[session.user]);
    const pid = await deps.docker.runningPid(session.container_id!).catch(() => undefined);
    const ssh = pid !== undefined && (await deps.sshConnections.count(pid).catch(() => 0)) > 0;
    const track = nextGpuTrack(
      session.gpu_util,
      samples.get(session.id),
      now,
      limits.idleGpuThreshold.value,
      ssh,
      pid,
    );
    tracks.set(session.id, track);
    const verdict = gpuIdleVerdict(
      {...session, gpu_util: track},
      {threshold: limits.idleGpuThreshold.value, windowMs: limits.idleGpuWindow.value},
      now,
    );
    if (verdict.state === 'idle') targets.push({reason: 'idle', session, detail: verdict.text});
  }
  if (!dryRun) {
    await deps.store.update((fresh) => {
      for (const record of fresh.sessions)
        if (tracks.has(record.id) && record.status === 'running')
          record.gpu_util = tracks.get(record.id) ?? null;
    });
  }
  return targets;
}

/** This reap's sample per session ID; a session whose device could not be read has none. */
async function readSamples(deps: ReaperDeps, sessions: SessionRecord[]): Promise<Map<string, GpuSample>> {
  const result = new Map<string, GpuSample>();
  const whole = sessions.filter((session) => session.mig_profile === null);
  const mig = sessions.filter((session) => session.mig_profile !== null);
  const smi = await deps.smi!().catch(() => undefined);
  if (whole.length > 0 && smi) {
    const rows: GpuStatus[] = await smi.utilization().catch(() => []);
    for (const session of whole) {
      const percent = rows.find((row) => row.uuid === session.gpu_uuid)?.utilizationPercent;
      if (percent !== null && percent !== undefined) result.set(session.id, {percent, source: 'nvidia-smi'});
    }
  }
  // Without dcgm-exporter a MIG device has no sample: the process rule (idleTimeout) applies.
  if (mig.length > 0 && deps.dcgm) {
    const devices: DcgmUtilization[] = await deps.dcgm
      .metrics()
      .then((text) => dcgmUtilization(parsePrometheusText(text)))
      .catch((error: unknown) => {
        deps.warn(`dcgm-exporter: ${(error as Error).message}; MIG devices get no GPU sample this reap`);
        return [];
      });
    // A pool device's GPU instance comes from -L and -lgi, read once, only when one is needed.
    const layout =
      smi && mig.some((session) => session.mig_gpu_instance === null)
        ? await Promise.all([smi.list(), smi.instances()]).catch(() => undefined)
        : undefined;
    for (const session of mig) {
      const where =
        session.mig_gpu_instance !== null && session.gpu_index !== null
          ? {gpuIndex: session.gpu_index, gpuInstanceId: session.mig_gpu_instance}
          : layout && migInstanceOf(session.gpu_uuid!, layout[0], layout[1]);
      if (!where) continue;
      const device = devices.find(
        (entry) => entry.gpuIndex === where.gpuIndex && entry.gpuInstanceId === where.gpuInstanceId,
      );
      if (device) result.set(session.id, {percent: device.percent, source: 'dcgm'});
    }
  }
  return result;
}
