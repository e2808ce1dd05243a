/**
 * `doctor`'s line about the GPU rule (docs/admin/notifications-and-idleness.md "GPU idleness"): whole GPUs are sampled with
 * nvidia-smi; MIG devices need dcgm-exporter, without which they fall back to the process rule.
 */
import {formatDuration} from '../core/duration.js';
import type {Config} from '../config/config.js';
import type {DcgmExporter} from '../gpu/dcgm-exporter.js';
import type {NvidiaSmi} from '../gpu/nvidia-smi.js';
import {dcgmUtilization, parsePrometheusText} from '../gpu/parse-dcgm-metrics.js';

export interface GpuIdleCheck {
  name: string;
  status: 'ok' | 'warn';
  detail: string;
  hint: string;
}

const NAME = 'GPU idleness';

/** Undefined on a host without nvidia-smi (the nvidia-smi line says so). */
export async function checkGpuIdleness(deps: {
  config: Config;
  smi: Pick<NvidiaSmi, 'available' | 'list'>;
  dcgm?: DcgmExporter;
}): Promise<GpuIdleCheck | undefined> {
  const {config} = deps;
  if (!(await deps.smi.available())) return undefined;
  const rule =
    config.idleGpuWindow === 0
      ? 'idleGpuWindow 0 (off unless a group or user sets one)'
      : `under ${config.idleGpuThreshold} % for ${formatDuration(config.idleGpuWindow)} stops a session`;
  const gpus = await deps.smi.list().catch(() => []);
  const migDevices = gpus.reduce((sum, gpu) => sum + gpu.migDevices.length, 0);
  if (migDevices === 0)
    return {name: NAME, status: 'ok', detail: `whole GPUs sampled with nvidia-smi; ${rule}`, hint: ''};
  if (!deps.dcgm)
    return {
      name: NAME,
      status: 'warn',
      detail: `${migDevices} MIG device(s) and no dcgmExporterUrl: nvidia-smi reports no utilisation for MIG devices, so they fall back to the process rule (idleTimeout)`,
      hint: 'run NVIDIA dcgm-exporter on this host and set dcgmExporterUrl, e.g. http://localhost:9400/metrics',
    };
  try {
    const series = dcgmUtilization(parsePrometheusText(await deps.dcgm.metrics()));
    const mig = series.filter((entry) => entry.gpuInstanceId !== null);
    if (mig.length === 0)
      return {
        name: NAME,
        status: 'warn',
        detail: `${config.dcgmExporterUrl} reports no MIG series (no GPU_I_ID label on DCGM_FI_PROF_GR_ENGINE_ACTIVE): MIG devices fall back to the process rule`,
        hint: "enable DCGM_FI_PROF_GR_ENGINE_ACTIVE in dcgm-exporter's counters (it is in the default set)",
      };
    return {
      name: NAME,
      status: 'ok',
      detail: `${mig.length} MIG device(s) reported by ${config.dcgmExporterUrl}; whole GPUs by nvidia-smi; ${rule}`,
      hint: '',
    };
  } catch (error) {
    return {
      name: NAME,
      status: 'warn',
      detail: `cannot read dcgm-exporter: ${(error as Error).message}; MIG devices fall back to the process rule`,
      hint: `check that dcgm-exporter runs and answers at ${config.dcgmExporterUrl} (curl it)`,
    };
  }
}
