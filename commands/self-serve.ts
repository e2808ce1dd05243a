import {invalidInput} from '../src/core/errors.js';
import type {Handler} from '../cli/command-spec.js';
import {wire} from '../cli/services.js';

/**
 * `sandman self-serve`: the in-session sandman's listener (cli/self-door.ts), started by systemd
 * socket activation with its socket (LISTEN_FDS, fd 3); with `--listen HOST:PORT` it binds that
 * itself and serves until SIGTERM.
 */
const selfServe: Handler = async ({flags}, context) => {
  const config = context.settings();
  const listen = flags.listen as string | undefined;
  const count = Number(process.env.LISTEN_FDS ?? 0);
  const pid = process.env.LISTEN_PID;
  const activated =
    Number.isInteger(count) && count >= 1 && (pid === undefined || Number(pid) === process.pid);
  if (listen === undefined && !activated)
    throw invalidInput(
      'sandman self-serve is started by systemd socket activation (LISTEN_FDS): install the units with ' +
        '"sandman systemd install", or give --listen HOST:PORT to serve in the foreground',
    );
  const [{serveSelf}, {listenAddress, untilStopped}] = await Promise.all([
    import('../cli/self-door.js'),
    import('../cli/foreground.js'),
  ]);
  await serveSelf(
    listen === undefined
      ? Array.from({length: count}, (_, index) => ({fd: 3 + index}))
      : [listenAddress(listen)],
    {
      config,
      services: (actor) => wire(config, {actor}),
      stopped: listen === undefined ? undefined : untilStopped(),
    },
  );
  return undefined;
};
export default selfServe;
