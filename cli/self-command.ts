import path from 'node:path';

import {envName, SETTINGS} from '../src/config.js';

/** How to run this very sandman from a unit file or cron: absolute node binary and CLI script. */
export function selfCommand(root: string): string[] {
  return [process.execPath, path.join(root, 'bin', 'run.js')];
}

/** Settings given through the environment are carried into the unit, so the timer sees the same setup. */
export function sandmanEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const names = ['SANDMAN_CONFIG', ...Object.keys(SETTINGS).map(envName)];
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}
