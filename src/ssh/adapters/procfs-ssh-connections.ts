import {readFile} from 'node:fs/promises';

import {countEstablished} from '../proc-net-tcp.js';
import type {SshConnections} from '../ssh-connections.js';

/** Reads /proc/<pid>/net/tcp and tcp6: the container's own network namespace, seen from the host. */
export const procfsSshConnections: SshConnections = {
  async count(pid) {
    const tables = await Promise.all(
      ['tcp', 'tcp6'].map((name) => readFile(`/proc/${pid}/net/${name}`, 'utf8').catch(() => '')),
    );
    return tables.reduce((sum, table) => sum + countEstablished(table, 22), 0);
  },
};
