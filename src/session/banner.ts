import type {SessionRecord, StoppedGpu} from '../state/state-data.js';

/** What a user sees at login: which GPU slice they hold and when the session ends. */
export function loginBanner(
  session: Pick<SessionRecord, 'id' | 'user' | 'gpu_uuid' | 'mig_profile' | 'expires_at'>,
): string {
  const expires = session.expires_at.replace('T', ' ').replace(/:\d\dZ$/, ' UTC');
  return [
    `sandman session ${session.id} for ${session.user}`,
    `  GPU      ${gpuDescription(session)}`,
    `  Expires  ${expires}; then this container is removed. Files in your home directory are kept.`,
  ].join('\n');
}

export function gpuDescription(session: Pick<SessionRecord, 'gpu_uuid' | 'mig_profile'>): string {
  if (!session.gpu_uuid) return 'none';
  return session.mig_profile ? `MIG ${session.mig_profile}  ${session.gpu_uuid}` : `GPU ${session.gpu_uuid}`;
}

/** A stopped session's GPU: what it had, freed (or held until gpuHoldAfterStop ends). */
export function stoppedGpu(session: {
  status: string;
  gpu_uuid: string | null;
  stopped_gpu?: StoppedGpu | null;
}): string | undefined {
  if (session.status !== 'stopped' || !session.stopped_gpu) return undefined;
  const what = session.stopped_gpu.mig_profile ? `MIG ${session.stopped_gpu.mig_profile}` : 'GPU';
  return session.gpu_uuid ? `${what} (held)` : `${what} (freed)`;
}
