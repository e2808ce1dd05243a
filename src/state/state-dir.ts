import path from 'node:path';

import {instanceId} from '../core/labels.js';

/**
 * Everything that lives beside the state file, derived from its path once (docs/admin/upgrades-and-backups.md "Where things are"): the
 * key directory, the lock files and the instance ID that labels this setup's containers.
 */
export interface StateDir {
  /** The state file, absolute. */
  file: string;
  dir: string;
  keysDir: string;
  /** The SSH host certificate authority (docs/admin/gateway.md). */
  caDir: string;
  /** The SSH gateway's host key and the key it logs in to sessions with (docs/admin/gateway.md "The SSH gateway"). */
  gatewayDir: string;
  /** `setup`'s record of what it made and where the reaper runs (src/setup/setup-record.ts). */
  setupRecord: string;
  /** Browser logins and terminal links of the web console (docs/admin/console-and-sign-in.md "In the browser"), 0600. */
  webAccess: string;
  /** The API's bearer token that `setup` makes when apiListen is set and apiTokenFile is not (0600). */
  apiToken: string;
  /** Labels containers and networks, so two setups sharing one engine never touch each other's. */
  instance: string;
  /** The path a named lock is taken on (`<dir>/<name>`, proper-lockfile adds `.lock`). */
  lock(name: 'state' | 'network' | 'mig' | 'reap' | 'web'): string;
}

export function stateDirOf(stateFile: string): StateDir {
  const file = path.resolve(stateFile);
  const dir = path.dirname(file);
  let instance: string | undefined;
  return {
    file,
    dir,
    keysDir: path.join(dir, 'keys'),
    caDir: path.join(dir, 'ca'),
    gatewayDir: path.join(dir, 'gateway'),
    setupRecord: path.join(dir, 'setup.json'),
    webAccess: path.join(dir, 'web-access.json'),
    apiToken: path.join(dir, 'api-token'),
    // Hashed on first use: read-only commands never need it (nor node:crypto).
    get instance() {
      return (instance ??= instanceId(file));
    },
    lock: (name) => (name === 'state' ? file : path.join(dir, name)),
  };
}
