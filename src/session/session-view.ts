import type {GpuIdleVerdict} from '../gpu/gpu-idle-verdict.js';
import type {SessionRecord, StoppedGpu} from '../state/state-data.js';

/** A session as `--json` shows it. Field names follow the original HTTP API so scripts keep working. */
export interface SessionView {
  session_id: string;
  container_id: string | null;
  container_name: string;
  status: string;
  ssh_user: string;
  ssh_host: string;
  ssh_port: number;
  ssh_command: string;
  ssh_private_key_path: string | null;
  gpu_uuid: string | null;
  mig_profile: string | null;
  workspace: string;
  uid: number;
  image: string;
  created_at: string;
  expires_at: string;
  /** When the reaper last saw it active, and why (ssh, cpu, gpu); null until then or when not tracked. */
  last_active_at: string | null;
  last_active_reason: string | null;
  /** Swarm mode: the node it runs on; null on a single host. */
  node: string | null;
  /** Stopped sessions (docs/admin/sessions.md "Stop and start"): when, the TTL left, and the device it had. */
  stopped_at: string | null;
  remaining_ms: number | null;
  stopped_gpu: StoppedGpu | null;
  /** `session show` of a running GPU session: the GPU rule's verdict and numbers (docs/admin/notifications-and-idleness.md "GPU idleness"). */
  gpu_idle?: GpuIdleVerdict;
  /** `sandman keep` inside the session: no idle stop before this (docs/admin/sessions.md "The in-session command"). */
  keep_until: string | null;
  /** Who last extended it (audit actor); null when never extended. */
  last_extended_by: string | null;
}

export function sshCommand(
  session: Pick<SessionRecord, 'ssh_private_key_path' | 'ssh_port' | 'user' | 'ssh_host'>,
) {
  const identity = session.ssh_private_key_path ? `-i ${session.ssh_private_key_path} ` : '';
  return `ssh ${identity}-p ${session.ssh_port} ${session.user}@${session.ssh_host}`;
}

export function toSessionView(session: SessionRecord): SessionView {
  return {
    session_id: session.id,
    container_id: session.container_id,
    container_name: session.container_name,
    status: session.status,
    ssh_user: session.user,
    ssh_host: session.ssh_host,
    ssh_port: session.ssh_port,
    ssh_command: sshCommand(session),
    ssh_private_key_path: session.ssh_private_key_path,
    gpu_uuid: session.gpu_uuid,
    mig_profile: session.mig_profile,
    workspace: session.workspace,
    uid: session.uid,
    image: session.image,
    created_at: session.created_at,
    expires_at: session.expires_at,
    last_active_at: session.last_active_at ?? null,
    last_active_reason: session.last_active_reason ?? null,
    node: session.node ?? null,
    stopped_at: session.stopped_at ?? null,
    remaining_ms: session.status === 'stopped' ? (session.remaining_ms ?? null) : null,
    stopped_gpu: session.stopped_gpu ?? null,
    keep_until: session.keep_until ?? null,
    last_extended_by: session.last_extended_by ?? null,
  };
}
