import type {MigMode} from '../config/config.js';
import {capacity, conflict, invalidInput, notFound} from '../core/errors.js';
import type {GpuAllocation, GpuChoice, PendingMigDevice} from './gpu-allocator.js';
import type {GpuInventory, InventoryGpu} from './inventory.js';
import type {MigDevice} from './gpu-types.js';

export interface SelectOptions {
  defaultProfile: string;
  migMode: MigMode;
}

const allocation = (gpu: InventoryGpu, uuid: string, profile: string | null): GpuAllocation => ({
  gpu_uuid: uuid,
  gpu_index: gpu.index,
  mig_profile: profile,
  mig_created: false,
  mig_gpu_instance: null,
  mig_compute_instance: null,
});

/** Every MIG device and whole GPU that no session holds, for "nothing free" messages and `gpu available`. */
export function freeDevices(
  inventory: GpuInventory,
  held: ReadonlySet<string>,
): Array<{gpu: InventoryGpu; device?: MigDevice}> {
  const free: Array<{gpu: InventoryGpu; device?: MigDevice}> = [];
  for (const gpu of inventory.gpus) {
    if (gpu.mig) {
      for (const device of gpu.migDevices) if (!held.has(device.uuid)) free.push({gpu, device});
    } else if (!held.has(gpu.uuid)) {
      free.push({gpu});
    }
  }
  return free;
}

function describeFree(inventory: GpuInventory, held: ReadonlySet<string>): string {
  const free = freeDevices(inventory, held);
  if (free.length === 0) return 'nothing is free';
  return (
    'free: ' +
    free
      .map(({gpu, device}) => (device ? `${device.profile} ${device.uuid}` : `GPU ${gpu.index} ${gpu.uuid}`))
      .join(', ')
  );
}

/** Profiles a session may ask for: those the GPUs can make (-lgip) and those devices already have (-L). */
export function knownProfiles(inventory: GpuInventory): string[] {
  const names = new Set<string>();
  for (const profile of inventory.profiles) names.add(profile.name);
  for (const gpu of inventory.gpus) for (const device of gpu.migDevices) names.add(device.profile);
  return [...names];
}

/**
 * Picks what a session gets (docs/admin/gpus.md). Pure: runs inside the state lock against an
 * inventory read just before, and the UUIDs that sessions hold right now.
 */
export function selectDevice(
  choice: GpuChoice,
  inventory: GpuInventory,
  held: ReadonlySet<string>,
  pending: readonly PendingMigDevice[],
  options: SelectOptions,
): GpuAllocation | PendingMigDevice | null {
  switch (choice.kind) {
    case 'none':
      return null;
    case 'profile':
      return selectProfile(choice.profile, inventory, held, pending, options);
    case 'mig-instance': {
      for (const gpu of inventory.gpus) {
        const device = gpu.migDevices.find((candidate) => candidate.uuid === choice.uuid);
        if (!device) continue;
        if (held.has(device.uuid))
          throw conflict(`MIG device ${device.uuid} is already held by another session`);
        return allocation(gpu, device.uuid, device.profile);
      }
      throw notFound(`no MIG device ${choice.uuid} on this host (see "sandman gpu ls")`);
    }
    case 'gpu': {
      if (choice.ref === 'any') {
        const wholes = inventory.gpus.filter((candidate) => !candidate.mig);
        if (wholes.length === 0)
          throw invalidInput(
            'every GPU here is in MIG mode: ask for a slice with --profile or --mig-instance',
          );
        const free = wholes.find((candidate) => !held.has(candidate.uuid));
        if (!free) throw capacity(`every whole GPU is held by a session; ${describeFree(inventory, held)}`);
        return allocation(free, free.uuid, null);
      }
      const gpu = inventory.gpus.find(
        (candidate) => candidate.uuid === choice.ref || String(candidate.index) === choice.ref,
      );
      if (!gpu) throw notFound(`no GPU ${JSON.stringify(choice.ref)} on this host (see "sandman gpu ls")`);
      if (gpu.mig) {
        throw invalidInput(
          `GPU ${gpu.index} (${gpu.uuid}) is in MIG mode: ask for a slice with --profile or --mig-instance instead`,
        );
      }
      if (held.has(gpu.uuid))
        throw conflict(`GPU ${gpu.index} (${gpu.uuid}) is already held by another session`);
      return allocation(gpu, gpu.uuid, null);
    }
    case 'default': {
      if (inventory.gpus.length === 0) return null;
      if (inventory.gpus.some((gpu) => gpu.mig)) {
        return selectProfile(options.defaultProfile, inventory, held, pending, options);
      }
      const whole = inventory.gpus.find((gpu) => !held.has(gpu.uuid));
      if (!whole) throw capacity(`every GPU is held by a session; ${describeFree(inventory, held)}`);
      return allocation(whole, whole.uuid, null);
    }
  }
}

function selectProfile(
  profile: string,
  inventory: GpuInventory,
  held: ReadonlySet<string>,
  pending: readonly PendingMigDevice[],
  options: SelectOptions,
): GpuAllocation | PendingMigDevice {
  const migGpus = inventory.gpus.filter((gpu) => gpu.mig);
  if (migGpus.length === 0) {
    throw invalidInput(
      `no GPU on this host is in MIG mode, so there is no ${profile} profile; use --gpu or --no-gpu`,
    );
  }
  const known = knownProfiles(inventory);
  if (!known.includes(profile)) {
    throw invalidInput(
      `unknown MIG profile ${JSON.stringify(profile)}; valid profiles here: ${known.join(', ')}`,
    );
  }
  for (const gpu of migGpus) {
    const device = gpu.migDevices.find(
      (candidate) => candidate.profile === profile && !held.has(candidate.uuid),
    );
    if (device) return allocation(gpu, device.uuid, profile);
  }
  if (options.migMode === 'dynamic') {
    for (const gpu of migGpus) {
      const room = inventory.profiles.find((entry) => entry.gpuIndex === gpu.index && entry.name === profile);
      const reserved = pending.filter(
        (item) => item.gpu_index === gpu.index && item.mig_profile === profile,
      ).length;
      if (room && room.free - reserved > 0) return {gpu_index: gpu.index, mig_profile: profile};
    }
  }
  throw capacity(
    `no free ${profile} MIG device${options.migMode === 'dynamic' ? ' and no room to create one' : ''}; ${describeFree(inventory, held)}`,
    {free: freeDevices(inventory, held).map(({gpu, device}) => device?.uuid ?? gpu.uuid)},
  );
}
