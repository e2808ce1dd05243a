import type {RemoveOutcome} from './container-client.js';

/** The engine's networks (implemented beside the ContainerClient, adapters/dockerode-container-client.ts). */
export interface NetworkClient {
  /** Whether the network lets containers talk to each other; undefined when it does not exist. */
  networkIcc(name: string): Promise<boolean | undefined>;
  /** The Linux bridge interface of a bridge network; undefined when the network does not exist. */
  networkBridge(name: string): Promise<string | undefined>;
  /**
   * Creates the isolated bridge network (inter-container traffic off) unless it exists. Returns the
   * addresses this host reaches its containers from (the bridge's gateway; Swarm mode: the
   * managers'), which the SSH gateway's key is accepted from.
   */
  ensureNetwork(name: string, labels: Record<string, string>): Promise<string[]>;
  /**
   * Removes the network when it carries these labels (so one setup never removes another's);
   * 'foreign' when it exists without them, 'absent' when there is none.
   */
  removeNetwork(name: string, labels: Record<string, string>): Promise<RemoveOutcome | 'foreign'>;
}
