import {createServer} from 'node:net';

import type {PortProbe} from '../ports.js';

/** Probes by binding: the same test the kernel will apply when Docker publishes the port. */
export function tcpPortProbe(bindAddress: string): PortProbe {
  return (port) =>
    new Promise((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen({port, host: bindAddress, exclusive: true}, () => {
        server.close(() => resolve(true));
      });
    });
}
