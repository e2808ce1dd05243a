import path from 'node:path';

import {tokenFileProblem} from '../web/api-token.js';
import type {Config} from '../config/config.js';
import type {Check} from './doctor.js';
import type {HostFiles} from '../host/host-files.js';
import type {ReaperLocation} from './setup-record.js';
import {
  API_SERVICE_NAME,
  API_SOCKET_NAME,
  GATEWAY_SERVICE_NAME,
  GATEWAY_SOCKET_NAME,
} from './systemd-units.js';

export interface ServiceCheckDeps {
  config: Config;
  files: HostFiles;
  /** Where setup puts units (the reaper's place); the API's and the gateway's go beside them. */
  place: ReaperLocation;
  /** `setup --gateway` installed the gateway's units (setup's record). */
  gateway: boolean;
  /** apiTokenFile, or the token file setup has just made and put in the config file. */
  tokenFile: string | undefined;
}

/**
 * doctor's checks of the API and the SSH gateway (docs/admin/http-api.md, "The SSH gateway"): the
 * token file as `sandman api` would judge it, and each one's units where setup puts them,
 * enabled and listening where systemd runs them.
 */
export async function serviceChecks(deps: ServiceCheckDeps): Promise<Check[]> {
  const {config} = deps;
  const checks: Check[] = [];
  if (config.apiListen || deps.tokenFile) checks.push(await checkToken(deps));
  const api = await checkUnits(deps, 'api units', [API_SOCKET_NAME, API_SERVICE_NAME], {
    wanted: config.apiListen !== undefined,
    missing: 'warn',
    install: (dir) => `sandman systemd install --api --dir ${dir}, then enable ${API_SOCKET_NAME}`,
  });
  if (api) checks.push(api);
  const gateway = await checkUnits(deps, 'gateway units', [GATEWAY_SOCKET_NAME, GATEWAY_SERVICE_NAME], {
    wanted: deps.gateway,
    missing: 'fail',
    install: (dir) => `sandman setup --gateway --unit-dir ${dir}`,
  });
  if (gateway) checks.push(gateway);
  return checks;
}

async function checkToken({config, files, tokenFile: file}: ServiceCheckDeps): Promise<Check> {
  if (!file)
    return {
      name: 'api token',
      status: 'fail',
      detail: `apiListen is ${config.apiListen} but apiTokenFile is not set: sandman api refuses TCP clients`,
      hint: 'sandman setup makes one (random, 0600) and sets apiTokenFile',
    };
  const mode = await files.mode(file);
  const problem = tokenFileProblem(file, mode, await files.read(file));
  if (!problem) return {name: 'api token', status: 'ok', detail: `${file} (600)`, hint: ''};
  return {
    name: 'api token',
    status: 'fail',
    detail: `${problem}; sandman api refuses to start with it`,
    hint: mode === undefined ? 'sandman setup makes one' : `chmod 600 ${file} (sandman setup does it)`,
  };
}

/**
 * A service's socket and service units in setup's place: none is fine when nobody asked for the
 * service; where systemd runs them, the socket must be enabled and listening.
 */
async function checkUnits(
  {files, place}: ServiceCheckDeps,
  name: string,
  units: [socket: string, service: string],
  /** wanted: asked for (apiListen, setup --gateway); missing: how bad it is when not installed. */
  options: {wanted: boolean; missing: 'warn' | 'fail'; install: (dir: string) => string},
): Promise<Check | undefined> {
  if (place.kind === 'cron') return undefined;
  const missing: string[] = [];
  for (const unit of units) if (!(await files.exists(path.join(place.dir, unit)))) missing.push(unit);
  if (missing.length === units.length && !options.wanted) return undefined;
  if (missing.length > 0)
    return {
      name,
      status: options.wanted ? options.missing : 'warn',
      detail: `${missing.join(', ')} not in ${place.dir}`,
      hint: options.install(place.dir),
    };
  const socket = units[0];
  if (place.kind === 'units')
    return {
      name,
      status: 'ok',
      detail: `${units.join(', ')} in ${place.dir} (enabling them is yours)`,
      hint: '',
    };
  const state = await files.unitState(socket);
  if (state.enabled === 'enabled' && state.active === 'active')
    return {name, status: 'ok', detail: `${socket} enabled and listening`, hint: ''};
  return {
    name,
    status: 'fail',
    detail: `${socket} is ${state.enabled} and ${state.active}: nothing answers`,
    hint: `systemctl enable --now ${socket}`,
  };
}
