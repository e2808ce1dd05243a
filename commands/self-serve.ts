import type {Handler} from '../cli/command-spec.js';
import {listenTargets, socketsPassed} from '../cli/foreground.js';
import {wire} from '../cli/services.js';

/**
 * `sandman self-serve`: the in-session sandman's listener (cli/self-door.ts), started by systemd
 * socket activation with its socket (LISTEN_FDS, fd 3); with `--listen HOST:PORT` it binds that
 * itself and serves until SIGTERM.
 */
const selfServe: Handler = async ({flags}, context) => {
  const config = context.settings();
  const listen = flags.listen as string | undefined;
  const passed = socketsPassed(
    listen,
    'sandman self-serve is started by systemd socket activation (LISTEN_FDS): install the units with ' +
      '"sandman systemd install", or give --listen HOST:PORT to serve in the foreground',
  );
  const {serveSelf} = await import('../cli/self-door.js');
  const {targets, stopped} = listenTargets(listen, passed);
  await serveSelf(targets, {config, services: (actor) => wire(config, {actor}), stopped});
  return undefined;
};
export default selfServe;
