import {readFile, stat} from 'node:fs/promises';

import {invalidInput} from '../src/errors.js';
import type {Handler} from '../cli/command-spec.js';
import {wire} from '../cli/services.js';

/**
 * `sandman api`: started by systemd socket activation with the listening sockets (LISTEN_FDS,
 * from fd 3 on); serves until idle for apiIdleTimeout, then exits (README "HTTP API").
 */
const api: Handler = async (_input, context) => {
  const config = context.settings();
  const count = Number(process.env.LISTEN_FDS ?? 0);
  const pid = process.env.LISTEN_PID;
  if (!Number.isInteger(count) || count < 1 || (pid !== undefined && Number(pid) !== process.pid)) {
    throw invalidInput(
      'sandman api is started by systemd socket activation (LISTEN_FDS): install the units with "sandman systemd install --api"',
    );
  }
  const token = config.apiTokenFile ? await readToken(config.apiTokenFile) : undefined;
  const {serveHttp} = await import('../cli/http-door.js');
  await serveHttp(
    Array.from({length: count}, (_, index) => 3 + index),
    {config, token, services: (actor, overrides) => wire({...config, ...overrides}, {actor})},
  );
  return undefined;
};
export default api;

async function readToken(file: string): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw invalidInput(`apiTokenFile ${file} does not exist`);
  if ((info.mode & 0o077) !== 0)
    throw invalidInput(`apiTokenFile ${file} must be mode 0600 (it is ${(info.mode & 0o777).toString(8)})`);
  const token = (await readFile(file, 'utf8')).trim();
  if (token.length < 16) throw invalidInput(`apiTokenFile ${file} holds no token of at least 16 characters`);
  return token;
}
