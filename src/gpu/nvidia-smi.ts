import type {GpuDevice, GpuInstance, GpuInstanceProfile, GpuStatus} from './gpu-types.js';
import type {CreatedInstance} from './parse-mig-commands.js';

/** The nvidia-smi commands sandman runs (docs/admin/gpus.md), behind one interface. */
export interface NvidiaSmi {
  /** False when the binary is not there (a host without the NVIDIA driver). */
  available(): Promise<boolean>;
  /** `nvidia-smi -L` */
  list(): Promise<GpuDevice[]>;
  /** `nvidia-smi --query-gpu=... --format=csv,noheader,nounits` */
  query(): Promise<GpuStatus[]>;
  /**
   * `nvidia-smi --query-gpu=index,uuid,utilization.gpu --format=csv,noheader,nounits`: whole GPUs'
   * utilisation (null for `[N/A]`, as a GPU in MIG mode answers).
   */
  utilization(): Promise<GpuStatus[]>;
  /** `nvidia-smi --query-compute-apps=pid,gpu_uuid`: host PIDs of GPU compute processes. */
  computeApps(): Promise<number[]>;
  /** `nvidia-smi mig -lgip` */
  instanceProfiles(): Promise<GpuInstanceProfile[]>;
  /** `nvidia-smi mig -lgi` */
  instances(): Promise<GpuInstance[]>;
  /** `nvidia-smi mig -i GPU -cgi PROFILE -C` */
  createInstance(gpuIndex: number, profile: string): Promise<CreatedInstance>;
  /** `nvidia-smi mig -i GPU -gi GI -ci CI -dci`, then `-gi GI -dgi`. Already gone counts as done. */
  destroyInstance(gpuIndex: number, gpuInstanceId: number, computeInstanceId: number | null): Promise<void>;
}
