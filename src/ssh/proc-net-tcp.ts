/** TCP state 01 in /proc/net/tcp and tcp6 is ESTABLISHED. */
const ESTABLISHED = '01';

/**
 * Counts established connections whose local port is `port` in a /proc/net/tcp or tcp6 table:
 * `  0: 0100007F:0016 0100007F:A2C4 01 ...` (addresses and ports in hex).
 */
export function countEstablished(table: string, port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const line of table.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (!local || fields[3] !== ESTABLISHED) continue;
    if (local.slice(local.lastIndexOf(':') + 1).toUpperCase() === hexPort) count++;
  }
  return count;
}
