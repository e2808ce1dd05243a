import {Socket} from 'node:net';

import {invalidInput} from '../src/errors.js';
import type {Handler} from '../cli/command-spec.js';

/**
 * `sandman gateway`: the SSH gateway for the one connection systemd accepted and passed as fd 3
 * (socket unit with Accept=yes; README "The SSH gateway"). Exits when that connection ends.
 */
const gateway: Handler = async (_input, context) => {
  const count = Number(process.env.LISTEN_FDS ?? 0);
  const pid = process.env.LISTEN_PID;
  if (count !== 1 || (pid !== undefined && Number(pid) !== process.pid)) {
    throw invalidInput(
      'sandman gateway serves one connection passed by systemd socket activation (Accept=yes): ' +
        'install the units with "sandman systemd install --gateway" (or "sandman setup --gateway")',
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
