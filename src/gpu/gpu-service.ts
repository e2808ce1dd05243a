import type {Config} from '../config/config.js';
import {isSandmanError} from '../core/errors.js';
import {heldDevices, type SessionRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import {migMemoryGiB, readInventory, type GpuInventory} from './inventory.js';
import type {NvidiaSmi} from './nvidia-smi.js';
import {migSlices} from './mig-slices.js';
import {freeDevices} from './select-device.js';

export interface MigDeviceView {
  uuid: string;
  profile: string;
  device_index: number;
  memory_gib: number | null;
  session_id: string | null;
  session_user: string | null;
}

export interface GpuView {
  index: number;
  uuid: string;
  name: string;
  memory_total_mib: number | null;
  memory_used_mib: number | null;
  memory_free_mib: number | null;
  utilization_percent: number | null;
  temperature_c: number | null;
  power_draw_w: number | null;
  power_limit_w: number | null;
  mig_mode: string | null;
  /** The session holding the whole GPU (non-MIG GPUs). */
  session_id: string | null;
  session_user: string | null;
  mig_devices: MigDeviceView[];
}

export interface ProfileView {
  gpu_index: number;
  profile: string;
  profile_id: number;
  memory_gib: number;
  /** Compute slices (the `3` of `3g.20gb`). */
  slices: number;
  /** GPU instances of this profile nvidia-smi could still create, of the most the GPU can hold. */
  instances_free: number;
  instances_total: number;
  /** Existing MIG devices of this profile that no session holds, of those that exist. */
  devices_free: number;
  devices_total: number;
}

export interface AvailableView {
  mig_mode: Config['migMode'];
  devices: Array<{
    kind: 'mig' | 'gpu';
    uuid: string;
    gpu_index: number;
    profile: string | null;
    memory_gib: number | null;
  }>;
  /** Dynamic mode: what sandman could still create on demand. */
  creatable: Array<{gpu_index: number; profile: string; count: number; memory_gib: number}>;
}

/** The `gpu` commands: the inventory joined with which session holds what. */
export class GpuService {
  constructor(
    private readonly smi: NvidiaSmi,
    private readonly store: StateStore,
    private readonly config: Config,
  ) {}

  /** The inventory and who holds its devices: sessions, and running batch jobs (by their job ID). */
  async #read(
    profiles = true,
  ): Promise<{inventory: GpuInventory; sessions: Array<Pick<SessionRecord, 'id' | 'user' | 'gpu_uuid'>>}> {
    // No nvidia-smi: a host without GPUs, whose inventory is empty (SPEC 11: monitoring scripts expect
    // `count: 0`); a driver that is installed but failing is an error, from the adapter.
    if (!(await this.smi.available())) return {inventory: {gpus: [], profiles: []}, sessions: []};
    const [inventory, state] = await Promise.all([readInventory(this.smi, {profiles}), this.store.read()]);
    const jobs = (state.jobs ?? []).filter((job) => job.state === 'running');
    return {
      inventory,
      sessions: [...state.sessions, ...jobs.map(({id, user, gpu_uuid}) => ({id, user, gpu_uuid}))],
    };
  }

  async list(): Promise<GpuView[]> {
    // MIG device memory comes from -lgip, as in `gpu profiles` and `gpu available`: the number in a
    // profile's name is not its memory (H100 NVL 2g.24gb has 21.5 GiB).
    // -lgip failing (a stand-in without it, a driver hiccup) costs the MIG memory column, not the list.
    const {inventory: base, sessions} = await this.#read(false);
    const profiles = base.gpus.some((gpu) => gpu.mig)
      ? await this.smi.instanceProfiles().catch((error: unknown) => {
          if (isSandmanError(error) && error.kind === 'DEPENDENCY_UNAVAILABLE') throw error;
          return [];
        })
      : [];
    const inventory = {...base, profiles};
    const holder = (uuid: string) => sessions.find((session) => session.gpu_uuid === uuid);
    return inventory.gpus.map((gpu) => ({
      index: gpu.index,
      uuid: gpu.uuid,
      name: gpu.name,
      memory_total_mib: gpu.memoryTotalMiB,
      memory_used_mib: gpu.memoryUsedMiB,
      memory_free_mib: gpu.memoryFreeMiB,
      utilization_percent: gpu.utilizationPercent,
      temperature_c: gpu.temperatureC,
      power_draw_w: gpu.powerDrawW,
      power_limit_w: gpu.powerLimitW,
      mig_mode: gpu.migMode,
      session_id: gpu.mig ? null : (holder(gpu.uuid)?.id ?? null),
      session_user: gpu.mig ? null : (holder(gpu.uuid)?.user ?? null),
      mig_devices: gpu.migDevices.map((device) => ({
        uuid: device.uuid,
        profile: device.profile,
        device_index: device.deviceIndex,
        memory_gib: migMemoryGiB(device.profile, gpu.index, inventory.profiles),
        session_id: holder(device.uuid)?.id ?? null,
        session_user: holder(device.uuid)?.user ?? null,
      })),
    }));
  }

  async profiles(): Promise<ProfileView[]> {
    const {inventory, sessions} = await this.#read();
    const held = heldDevices(sessions);
    return inventory.profiles.map((profile) => {
      const devices =
        inventory.gpus
          .find((gpu) => gpu.index === profile.gpuIndex)
          ?.migDevices.filter((device) => device.profile === profile.name) ?? [];
      return {
        gpu_index: profile.gpuIndex,
        profile: profile.name,
        profile_id: profile.id,
        memory_gib: profile.memoryGiB,
        slices: migSlices(profile.name) ?? 0,
        instances_free: profile.free,
        instances_total: profile.total,
        devices_free: devices.filter((device) => !held.has(device.uuid)).length,
        devices_total: devices.length,
      };
    });
  }

  async available(): Promise<AvailableView> {
    const {inventory, sessions} = await this.#read();
    const held = heldDevices(sessions);
    const devices = freeDevices(inventory, held).map(({gpu, device}) => ({
      kind: device ? ('mig' as const) : ('gpu' as const),
      uuid: device?.uuid ?? gpu.uuid,
      gpu_index: gpu.index,
      profile: device?.profile ?? null,
      memory_gib: device
        ? migMemoryGiB(device.profile, gpu.index, inventory.profiles)
        : gpu.memoryTotalMiB === null
          ? null
          : Math.round((gpu.memoryTotalMiB / 1024) * 100) / 100,
    }));
    const creatable =
      this.config.migMode === 'dynamic'
        ? inventory.profiles
            .filter((profile) => profile.free > 0)
            .map((profile) => ({
              gpu_index: profile.gpuIndex,
              profile: profile.name,
              count: profile.free,
              memory_gib: profile.memoryGiB,
            }))
        : [];
    return {mig_mode: this.config.migMode, devices, creatable};
  }
}
