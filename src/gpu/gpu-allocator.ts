/** How `session create` asks for a GPU (at most one of these: docs/admin/gpus.md). */
export type GpuChoice =
  | {kind: 'default'}
  | {kind: 'none'}
  | {kind: 'profile'; profile: string}
  | {kind: 'mig-instance'; uuid: string}
  | {kind: 'gpu'; ref: string};

/** What a session holds. */
export interface GpuAllocation {
  gpu_uuid: string;
  gpu_index: number | null;
  mig_profile: string | null;
  /** sandman created this MIG device (dynamic mode) and destroys it when the session ends. */
  mig_created: boolean;
  /** GPU and compute instance IDs of a device sandman created (what -dci/-dgi need). */
  mig_gpu_instance: number | null;
  mig_compute_instance: number | null;
}

/** A reservation that still needs a MIG device made (dynamic mode): done outside the state lock. */
export interface PendingMigDevice {
  gpu_index: number;
  mig_profile: string;
}

export interface GpuPlan {
  /** A line for the output when the choice ended in "no GPU" (e.g. no nvidia-smi on this host). */
  readonly note?: string;
  /**
   * Runs inside the state lock: picks a device no session holds (`held` = UUIDs held by sessions,
   * `pending` = dynamic creations other sessions have reserved but not finished).
   * Throws capacity/not-found/conflict errors.
   */
  pick(
    held: ReadonlySet<string>,
    pending: readonly PendingMigDevice[],
  ): GpuAllocation | PendingMigDevice | null;
  /** The share of its GPU a device of this profile is (1 for a whole GPU); undefined if unknown. */
  fraction?(gpuIndex: number | null, migProfile: string | null): number | undefined;
}

export interface GpuAllocator {
  /** Reads the host's GPUs (outside the lock) and validates the choice against them. */
  plan(choice: GpuChoice): Promise<GpuPlan>;
  /** Dynamic mode: creates the MIG device a pending reservation asked for. */
  createMigDevice(pending: PendingMigDevice): Promise<GpuAllocation>;
  /**
   * Whether nvidia-smi still lists this GPU or MIG device (after a reboot MIG devices come back
   * with new UUIDs, or not at all); undefined when there is no nvidia-smi to ask.
   */
  present(uuid: string): Promise<boolean | undefined>;
  /** Gives a device back; destroys it if sandman created it. Never touches other devices. */
  release(allocation: GpuAllocation): Promise<void>;
}

export function isPending(value: GpuAllocation | PendingMigDevice | null): value is PendingMigDevice {
  return value !== null && !('gpu_uuid' in value);
}
