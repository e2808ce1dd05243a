/** The state file's schema (SPEC.md section 6). Field names are snake_case so `jq` users see the API's names. */

export const STATE_VERSION = 1;

export type SessionStatus = 'creating' | 'running';

export interface SessionRecord {
  id: string;
  user: string;
  status: SessionStatus;
  container_id: string | null;
  container_name: string;
  image: string;
  ssh_port: number;
  ssh_host: string;
  /** Path of the private key sandman made, or null when the user brought their own public key. */
  ssh_private_key_path: string | null;
  gpu_uuid: string | null;
  gpu_index: number | null;
  mig_profile: string | null;
  /** True when sandman created the MIG device for this session (dynamic mode) and must destroy it. */
  mig_created: boolean;
  /** GPU/compute instance IDs of a MIG device sandman created, for destroying exactly that one. */
  mig_gpu_instance: number | null;
  mig_compute_instance: number | null;
  uid: number;
  workspace: string;
  created_at: string;
  expires_at: string;
  /** The process that reserved this record; lets the reaper tell a crashed create from a slow one. */
  creator_pid: number;
}

export interface UserRecord {
  uid: number;
}

export interface StateData {
  version: typeof STATE_VERSION;
  sessions: SessionRecord[];
  users: Record<string, UserRecord>;
}

export function emptyState(): StateData {
  return {version: STATE_VERSION, sessions: [], users: {}};
}
