/** Established SSH connections into a container, seen from the host (no exec into it). */
export interface SshConnections {
  /** Connections to port 22 in the network namespace of process `pid`. */
  count(pid: number): Promise<number>;
}
