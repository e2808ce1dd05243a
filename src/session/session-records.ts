/** A session record's GPU fields and container environment, as the workflows read and write them. */
import {randomBytes} from 'node:crypto';
import type {GpuAllocation, PendingMigDevice} from '../gpu/gpu-allocator.js';
import type {SessionRecord} from '../state/state-data.js';

/** The GPU part of a record (a session's or a job's), as the allocator sees it. */
export function allocationOf(
  record: Pick<
    SessionRecord,
    'gpu_uuid' | 'gpu_index' | 'mig_profile' | 'mig_created' | 'mig_gpu_instance' | 'mig_compute_instance'
  >,
): GpuAllocation {
  return {
    gpu_uuid: record.gpu_uuid ?? '',
    gpu_index: record.gpu_index,
    mig_profile: record.mig_profile,
    mig_created: record.mig_created,
    mig_gpu_instance: record.mig_gpu_instance ?? null,
    mig_compute_instance: record.mig_compute_instance ?? null,
  };
}

export function newSessionId(): string {
  return randomBytes(6).toString('hex');
}

export function gpuFields(allocation: GpuAllocation): Partial<SessionRecord> {
  return {
    gpu_uuid: allocation.gpu_uuid,
    gpu_index: allocation.gpu_index,
    mig_profile: allocation.mig_profile,
    mig_created: allocation.mig_created,
    mig_gpu_instance: allocation.mig_gpu_instance,
    mig_compute_instance: allocation.mig_compute_instance,
  };
}

export function pendingCreations(
  sessions: readonly Pick<SessionRecord, 'gpu_uuid' | 'gpu_index' | 'mig_profile'>[],
): PendingMigDevice[] {
  return sessions.flatMap((session) =>
    session.gpu_uuid === null && session.gpu_index !== null && session.mig_profile !== null
      ? [{gpu_index: session.gpu_index, mig_profile: session.mig_profile}]
      : [],
  );
}

export function envValue(env: string[], name: string): string | undefined {
  return env.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The operator's `--env` values a session container was made with (for a container made again). */
export function userEnvOf(containerEnv: string[]): Map<string, string> {
  const names = new Set((envValue(containerEnv, 'SANDMAN_USER_ENV') ?? '').split(',').filter(Boolean));
  return new Map(
    containerEnv.flatMap((entry) => {
      const name = entry.slice(0, entry.indexOf('='));
      return names.has(name) ? [[name, entry.slice(name.length + 1)] as const] : [];
    }),
  );
}

/** The GPU fields of a record that holds nothing. */
export const NO_GPU = {
  gpu_uuid: null,
  gpu_index: null,
  mig_profile: null,
  mig_created: false,
  mig_gpu_instance: null,
  mig_compute_instance: null,
} satisfies Partial<SessionRecord>;
