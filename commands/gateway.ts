import {createServer, Socket} from 'node:net';

import {invalidInput} from '../src/core/errors.js';
import type {CommandContext, Handler} from '../cli/command-spec.js';

/**
 * `sandman gateway`: the SSH gateway for the one connection systemd accepted and passed as fd 3
 * (socket unit with Accept=yes; docs/admin/gateway.md "The SSH gateway"). Exits when that connection ends. With
 * `--listen HOST:PORT` it accepts connections itself until SIGTERM, for a supervisor.
 */
const gateway: Handler = async ({flags}, context) => {
  if (flags.listen !== undefined) return serveForeground(flags.listen as string, context);
  const count = Number(process.env.LISTEN_FDS ?? 0);
  const pid = process.env.LISTEN_PID;
  if (count !== 1 || (pid !== undefined && Number(pid) !== process.pid)) {
    throw invalidInput(
      'sandman gateway serves one connection passed by systemd socket activation (Accept=yes): ' +
        'install the units with "sandman systemd install --gateway" (or "sandman setup --gateway"), ' +
        'or give --listen HOST:PORT to serve in the foreground',
    );
  }
  const socket = new Socket({fd: 3, readable: true, writable: true});
  const source = socket.remoteAddress ?? process.env.REMOTE_ADDR;
  if (!source) {
    socket.destroy();
    throw invalidInput('sandman gateway was given a listening socket: its socket unit needs Accept=yes');
  }
  await (await context.services().gateway()).serve(socket, source);
  return undefined;
};
export default gateway;

/**
 * Every connection on HOST:PORT, each served as systemd's per-connection service would serve it,
 * at most gatewayMaxConnectionsPerSource at once from one address (the socket unit's
 * MaxConnectionsPerSource). SIGTERM stops listening and ends the connections.
 */
async function serveForeground(listen: string, context: CommandContext): Promise<undefined> {
  const {listenAddress, listenOn, untilStopped} = await import('../cli/foreground.js');
  const address = listenAddress(listen);
  const limit = context.settings().gatewayMaxConnectionsPerSource;
  const service = await context.services().gateway();
  const open = new Map<string, Set<Socket>>();
  const served = new Set<Promise<unknown>>();
  const server = createServer((socket) => {
    const source = socket.remoteAddress ?? '?';
    const fromSource = open.get(source) ?? new Set<Socket>();
    if (fromSource.size >= limit) return void socket.destroy();
    open.set(source, fromSource.add(socket));
    const done = service
      .serve(socket, source)
      .catch((error: Error) => process.stderr.write(`sandman gateway: ${source}: ${error.message}\n`))
      .finally(() => {
        socket.destroy();
        fromSource.delete(socket);
        if (fromSource.size === 0) open.delete(source);
        served.delete(done);
      });
    served.add(done);
  });
  const stopped = untilStopped();
  await listenOn(server, address);
  await stopped;
  server.close();
  for (const sockets of open.values()) for (const socket of sockets) socket.destroy();
  await Promise.all(served);
  return undefined;
}
