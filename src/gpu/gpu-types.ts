/** What sandman knows about the host's GPUs, as read from nvidia-smi. */

export interface MigDevice {
  /** `MIG-<uuid>` (current drivers) or `MIG-GPU-<uuid>/<gi>/<ci>` (older drivers). */
  uuid: string;
  /** GPU instance profile (`3g.20gb`) or compute instance profile (`1c.2g.10gb`) as nvidia-smi names it. */
  profile: string;
  gpuIndex: number;
  /** nvidia-smi's device number within the GPU. */
  deviceIndex: number;
  /** Known only from the old UUID form (or from -lgi); null otherwise. */
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
}

export interface GpuDevice {
  index: number;
  uuid: string;
  name: string;
  migDevices: MigDevice[];
}

export interface GpuStatus {
  index: number;
  uuid: string | null;
  name: string | null;
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
  utilizationPercent: number | null;
  temperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  /** `Enabled`, `Disabled`, or null where the GPU cannot do MIG (`[N/A]`). */
  migMode: string | null;
}

export interface GpuInstanceProfile {
  gpuIndex: number;
  /** e.g. `1g.5gb`, `1g.5gb+me`. */
  name: string;
  id: number;
  free: number;
  total: number;
  memoryGiB: number;
  p2p: boolean;
  sm: number;
  dec: number;
  enc: number;
  ce: number | null;
  jpeg: number | null;
  ofa: number | null;
}

export interface GpuInstance {
  gpuIndex: number;
  profile: string;
  profileId: number;
  instanceId: number;
  placementStart: number;
  placementSize: number;
}
