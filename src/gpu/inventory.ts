import {SandmanError} from '../core/errors.js';
import type {GpuInstanceProfile, GpuStatus, MigDevice} from './gpu-types.js';
import type {NvidiaSmi} from './nvidia-smi.js';

export interface InventoryGpu extends GpuStatus {
  uuid: string;
  name: string;
  /** MIG mode is on: the GPU is handed out only as MIG devices. */
  mig: boolean;
  migDevices: MigDevice[];
}

export interface GpuInventory {
  gpus: InventoryGpu[];
  /** GPU instance profiles of the MIG-enabled GPUs (empty when none is). */
  profiles: GpuInstanceProfile[];
}

/** Joins `-L` (devices, UUIDs) with `--query-gpu` (memory, power, MIG mode) by GPU index. */
export function joinInventory(
  list: Awaited<ReturnType<NvidiaSmi['list']>>,
  query: GpuStatus[],
  profiles: GpuInstanceProfile[],
): GpuInventory {
  const gpus = list.map((device): InventoryGpu => {
    const status = query.find((row) => row.index === device.index);
    const migMode = status?.migMode ?? null;
    return {
      index: device.index,
      uuid: device.uuid,
      name: device.name,
      memoryTotalMiB: status?.memoryTotalMiB ?? null,
      memoryUsedMiB: status?.memoryUsedMiB ?? null,
      memoryFreeMiB: status?.memoryFreeMiB ?? null,
      utilizationPercent: status?.utilizationPercent ?? null,
      temperatureC: status?.temperatureC ?? null,
      powerDrawW: status?.powerDrawW ?? null,
      powerLimitW: status?.powerLimitW ?? null,
      migMode,
      // MIG devices in -L prove MIG is on even when the mode column is missing.
      mig: migMode === 'Enabled' || device.migDevices.length > 0,
      migDevices: device.migDevices,
    };
  });
  return {gpus, profiles};
}

/** Reads the host's GPUs: -L and --query-gpu always, -lgip only when some GPU is in MIG mode. */
export async function readInventory(smi: NvidiaSmi, options: {profiles: boolean}): Promise<GpuInventory> {
  const [list, query] = await Promise.all([smi.list(), smi.query()]);
  // -L cut short (a driver hiccup, a GPU falling off the bus mid-answer) must not read as fewer GPUs.
  if (list.length < query.length) {
    throw new SandmanError(
      'FAILURE',
      `nvidia-smi -L listed ${list.length} GPU(s) but --query-gpu ${query.length}: a truncated answer; ` +
        'run nvidia-smi -L by hand (dmesg may show a GPU that fell off the bus)',
    );
  }
  const partial = joinInventory(list, query, []);
  if (!options.profiles || !partial.gpus.some((gpu) => gpu.mig)) return partial;
  return {...partial, profiles: await smi.instanceProfiles()};
}

/**
 * Memory of a MIG device: -lgip's figure for its (base) profile, the one `gpu profiles` shows;
 * null when -lgip does not list it. Never the number in the name (H100 NVL 2g.24gb is 21.5 GiB).
 */
export function migMemoryGiB(
  profile: string,
  gpuIndex: number,
  profiles: GpuInstanceProfile[],
): number | null {
  const base = profile.replace(/^\d+c\./, '');
  return profiles.find((entry) => entry.gpuIndex === gpuIndex && entry.name === base)?.memoryGiB ?? null;
}
