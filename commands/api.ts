import {readFile, stat} from 'node:fs/promises';

import {tokenFileProblem} from '../src/web/api-token.js';
import {invalidInput} from '../src/core/errors.js';
import type {Handler} from '../cli/command-spec.js';
import {listenTargets, socketsPassed} from '../cli/foreground.js';
import {wire} from '../cli/services.js';

/**
 * `sandman api`: started by systemd socket activation with the listening sockets (LISTEN_FDS,
 * from fd 3 on); serves until idle for apiIdleTimeout, then exits (docs/admin/http-api.md). With
 * `--listen HOST:PORT` it binds that itself and serves until SIGTERM, for a supervisor.
 */
const api: Handler = async ({flags}, context) => {
  const config = context.settings();
  const listen = flags.listen as string | undefined;
  const passed = socketsPassed(
    listen,
    'sandman api is started by systemd socket activation (LISTEN_FDS): install the units with ' +
      '"sandman systemd install --api", or give --listen HOST:PORT to serve in the foreground',
  );
  const token = config.apiTokenFile ? await readToken(config.apiTokenFile) : undefined;
  if (listen !== undefined && !token)
    throw invalidInput(
      '--listen serves on TCP, where clients need the bearer token: set apiTokenFile ' +
        '(sandman setup --api-listen HOST:PORT makes one)',
    );
  const {serveHttp} = await import('../cli/http-door.js');
  const {targets, stopped} = listenTargets(listen, passed);
  await serveHttp(targets, {
    config,
    token,
    services: (actor, overrides) => wire({...config, ...overrides}, {actor}),
    stopped,
  });
  return undefined;
};
export default api;

async function readToken(file: string): Promise<string> {
  const mode = (await stat(file).catch(() => undefined))?.mode;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const problem = tokenFileProblem(file, mode, text);
  if (problem) throw invalidInput(problem);
  if (text === undefined) throw invalidInput(`apiTokenFile ${file} cannot be read by this account`);
  return text.trim();
}
