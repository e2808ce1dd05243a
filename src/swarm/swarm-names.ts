import {createHash} from 'node:crypto';

/**
 * Names sandman gives Swarm objects, derived in one place (docs/admin/swarm.md).
 */

/** The user's home: a named local volume on the node the user is pinned to. */
export function homeVolume(user: string): string {
  return `sandman-home-${user}`;
}

/**
 * The configuration-only network `sandman node setup` makes on every node (inter-container traffic
 * off, a fixed bridge name for the firewall rules); the sessions' swarm network is made from it.
 */
export function nodeNetwork(network: string): string {
  return `${network}-node`;
}

/**
 * The Linux bridge of the sessions' network on every node. Interface names hold 15 characters: a
 * longer network name keeps its start and gets a hash of the whole, so two networks never share a
 * bridge (Docker refuses a second network with the same bridge name on a node).
 */
export function nodeBridge(network: string): string {
  const name = `sm-${network}`;
  if (name.length <= 15) return name;
  return `sm-${network.slice(0, 6)}-${createHash('sha256').update(network).digest('hex').slice(0, 5)}`;
}

/** The generic resource kind a node advertises for a MIG profile, or for whole GPUs. */
export const WHOLE_GPU_KIND = 'NVIDIA-GPU';
export function migKind(profile: string): string {
  return `NVIDIA-MIG-${profile}`;
}
export function profileOfKind(kind: string): string | null {
  return kind.startsWith('NVIDIA-MIG-') ? kind.slice('NVIDIA-MIG-'.length) : null;
}

/**
 * The environment variable Docker gives a task for an assigned resource kind (upper-cased), which
 * nvidia-container-runtime's `swarm-resource` setting must name.
 */
export function resourceVariable(kind: string): string {
  return `DOCKER_RESOURCE_${kind.toUpperCase()}`;
}
