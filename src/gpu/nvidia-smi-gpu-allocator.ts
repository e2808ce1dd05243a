import type {Config} from '../config/config.js';
import {dependencyUnavailable, SandmanError} from '../core/errors.js';
import type {Locks} from '../state/locks.js';
import type {GpuAllocation, GpuAllocator, GpuChoice, GpuPlan, PendingMigDevice} from './gpu-allocator.js';
import {readInventory} from './inventory.js';
import type {NvidiaSmi} from './nvidia-smi.js';
import {selectDevice} from './select-device.js';
import {migFraction, migSlices} from './mig-slices.js';

/** GPU slices from the host's nvidia-smi: pool mode hands out existing MIG devices, dynamic mode makes them. */
export class NvidiaSmiGpuAllocator implements GpuAllocator {
  readonly #config: Config;
  readonly #smi: NvidiaSmi;
  readonly #locks: Locks;

  constructor(config: Config, smi: NvidiaSmi, locks: Locks) {
    this.#config = config;
    this.#smi = smi;
    this.#locks = locks;
  }

  async plan(choice: GpuChoice): Promise<GpuPlan> {
    if (choice.kind === 'none') return {pick: () => null};
    if (!(await this.#smi.available())) {
      if (choice.kind === 'default') return {note: 'no nvidia-smi on this host', pick: () => null};
      throw dependencyUnavailable(
        `a GPU was asked for, but nvidia-smi was not found (${this.#config.nvidiaSmi}); ` +
          'install the NVIDIA driver or use --no-gpu',
      );
    }
    const inventory = await readInventory(this.#smi, {profiles: true});
    const note = inventory.gpus.length === 0 ? 'nvidia-smi lists no GPU' : undefined;
    return {
      note,
      pick: (held, pending) =>
        selectDevice(choice, inventory, held, pending, {
          defaultProfile: this.#config.defaultProfile,
          migMode: this.#config.migMode,
        }),
      fraction: (gpuIndex, migProfile) => {
        if (migProfile === null) return 1;
        // The GPU's slices: its largest profile's (7g.40gb on an A100, 4g.24gb on an A30).
        const slices = Math.max(
          0,
          ...inventory.profiles
            .filter((profile) => profile.gpuIndex === gpuIndex)
            .map((profile) => migSlices(profile.name) ?? 0),
        );
        return migFraction(migProfile, slices);
      },
    };
  }

  /**
   * Creates a GPU instance with its default compute instance and finds its UUID as the one device of
   * that profile that -L did not list before. A host-wide MIG lock keeps two sandman processes from
   * confusing each other's new devices.
   */
  async createMigDevice(pending: PendingMigDevice): Promise<GpuAllocation> {
    return this.#withMigLock(async () => {
      const before = new Set(
        (await this.#smi.list()).flatMap((gpu) => gpu.migDevices.map((device) => device.uuid)),
      );
      const created = await this.#smi.createInstance(pending.gpu_index, pending.mig_profile);
      const after = await this.#smi.list();
      const fresh = (after.find((gpu) => gpu.index === pending.gpu_index)?.migDevices ?? []).filter(
        (device) => !before.has(device.uuid),
      );
      const device =
        fresh.find((candidate) => candidate.gpuInstanceId === created.gpuInstanceId) ??
        (fresh.length === 1 ? fresh[0] : undefined);
      if (!device) {
        await this.#smi
          .destroyInstance(pending.gpu_index, created.gpuInstanceId, created.computeInstanceId)
          .catch(() => undefined);
        throw new SandmanError(
          'FAILURE',
          `created GPU instance ${created.gpuInstanceId} on GPU ${pending.gpu_index}, but could not find its MIG device in nvidia-smi -L; destroyed it again`,
        );
      }
      return {
        gpu_uuid: device.uuid,
        gpu_index: pending.gpu_index,
        mig_profile: pending.mig_profile,
        mig_created: true,
        mig_gpu_instance: created.gpuInstanceId,
        mig_compute_instance: created.computeInstanceId,
      };
    });
  }

  async present(uuid: string): Promise<boolean | undefined> {
    if (!(await this.#smi.available())) return undefined;
    const gpus = await this.#smi.list();
    return gpus.some((gpu) => gpu.uuid === uuid || gpu.migDevices.some((device) => device.uuid === uuid));
  }

  async release(allocation: GpuAllocation): Promise<void> {
    // Devices sandman did not create are only handed back, never destroyed.
    if (!allocation.mig_created || allocation.gpu_index === null || allocation.mig_gpu_instance === null)
      return;
    const {gpu_index: gpu, mig_gpu_instance: gi, mig_compute_instance: ci} = allocation;
    await this.#withMigLock(() => this.#smi.destroyInstance(gpu, gi, ci));
  }

  /** One MIG change at a time on this host, across sandman processes. */
  async #withMigLock<T>(work: () => Promise<T>): Promise<T> {
    return this.#locks.withLock(
      'mig',
      60_000,
      () => new SandmanError('FAILURE', 'the MIG lock was held for over 60s by another sandman'),
      work,
    );
  }
}
