import path from 'node:path';

import {isoSeconds, type Clock} from '../core/clock.js';
import {setupFlagName, storedSetting, type Config, type SettingName} from '../config/config.js';
import type {Engine} from '../runtime/docker/engine-client.js';
import type {ImageClient} from '../runtime/docker/image-client.js';
import type {NetworkClient} from '../runtime/docker/network-client.js';
import type {Check} from './doctor.js';
import {LABELS} from '../core/labels.js';
import type {NetworkBoundary} from '../network/network-boundary.js';
import type {StateDir} from '../state/state-dir.js';
import {
  describeReaper,
  emptyRecord,
  reaperLocation,
  readSetupRecord,
  type ReaperLocation,
  type SetupRecord,
} from './setup-record.js';
import {
  cronFile,
  GATEWAY_SERVICE_NAME,
  GATEWAY_SOCKET_NAME,
  gatewayUnits,
  reaperUnits,
  SELF_SERVICE_NAME,
  SELF_SOCKET_NAME,
  selfServeUnits,
  TIMER_NAME,
} from './systemd-units.js';
import type {GatewayKeys} from '../gateway/gateway-keys.js';
import {apiTokenStep} from './api-token-step.js';
import type {Change, SetupHost, SetupStep} from './setup-host.js';

export interface SetupRequest {
  dryRun: boolean;
  force: boolean;
  /** Base image for the workspace image, when it has to be built. */
  base?: string;
  /** Write the reaper's units here (and enable nothing); remembered for later runs. */
  unitDir?: string;
  /** The reaper's cron file on a host without systemd; remembered for later runs. */
  cronFile?: string;
  /** The config file and the settings given on the command line, to be kept there. */
  configFile: string;
  given: Partial<Record<SettingName, string>>;
  /** The CLI as a unit or cron job runs it, and the environment the units carry. */
  command: string[];
  environment: Record<string, string>;
  imageContext: string;
  /** Also the SSH gateway's socket and service (docs/admin/gateway.md "The SSH gateway"); remembered for later runs. */
  gateway?: boolean;
  /** Also the in-session sandman's socket and service (docs/admin/sessions.md "The in-session command"); remembered. */
  selfServe?: boolean;
}

export interface SetupDeps {
  config: Config;
  stateDir: StateDir;
  host: SetupHost;
  docker: Engine & ImageClient & NetworkClient;
  networkBoundary: Pick<NetworkBoundary, 'ensure' | 'status'>;
  buildImage: (base: string | undefined) => Promise<void>;
  doctor: (reaper: ReaperLocation) => Promise<Check[]>;
  clock: Clock;
  /** The gateway's keys, made at setup so its first connection does not wait for them. */
  gatewayKeys: GatewayKeys;
}

/**
 * `sandman setup` (docs/admin/install.md): each step checks first and changes only what is missing, so
 * a second run changes nothing and says so; a dry run says what each step would do. What it made
 * and where the reaper went are kept in the setup record (`setup --remove` undoes exactly that).
 */
export async function setUpHost(
  deps: SetupDeps,
  request: SetupRequest,
): Promise<{steps: SetupStep[]; checks: Check[]; reaper: ReaperLocation}> {
  const steps: SetupStep[] = [];
  const change: Change = async (step, detail, work) => {
    if (request.dryRun) return steps.push({step, status: 'would', detail});
    await work();
    return steps.push({step, status: 'done', detail});
  };
  const {stateDir, host} = deps;
  const before = await readSetupRecord(host.read, stateDir.setupRecord);
  const record: SetupRecord = structuredClone(before) ?? emptyRecord();

  // With the API on TCP and no apiTokenFile, the token setup makes is kept in the config file.
  const {config} = deps;
  const given =
    config.apiListen && !config.apiTokenFile
      ? {...request.given, apiTokenFile: stateDir.apiToken}
      : request.given;
  await configFileStep(deps, {...request, given}, record, steps, change);
  await directorySteps(deps, record, steps, change);
  await apiTokenStep(deps, record, steps, change);
  await imageStep(deps, request, record, steps, change);
  const reaper = reaperLocation(request, before, await host.systemd());
  await reaperStep(deps, request, reaper, record, steps, change);
  record.reaper = reaper;
  record.at = isoSeconds(deps.clock.now());
  await gatewayStep(deps, request, reaper, record, steps, change);
  await networkSteps(deps, request, record, steps, change);
  await selfServeStep(deps, request, reaper, record, steps, change);

  if (!request.dryRun && JSON.stringify(record) !== JSON.stringify(before))
    await host.write(stateDir.setupRecord, JSON.stringify(record, null, 2) + '\n', 0o644);
  // What doctor still finds, looking where the reaper was put.
  const checks = request.dryRun ? [] : await deps.doctor(reaper);
  return {steps, checks, reaper};
}

/** 1. The configuration file keeps what was given, typed; values already there stay unless --force. */
async function configFileStep(
  {host}: SetupDeps,
  request: SetupRequest,
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  const existingText = await host.read(request.configFile);
  const existing = existingText ? (JSON.parse(existingText) as Record<string, unknown>) : {};
  const merged = {...existing};
  const kept: string[] = [];
  for (const [name, raw] of Object.entries(request.given) as Array<[SettingName, string | undefined]>) {
    if (raw === undefined) continue;
    const value = storedSetting(name, raw, `flag --${setupFlagName(name)}`);
    if (JSON.stringify(existing[name]) === JSON.stringify(value)) continue;
    if (name in existing && !request.force) kept.push(`${name}=${JSON.stringify(existing[name])}`);
    else merged[name] = value;
  }
  if (JSON.stringify(merged) !== JSON.stringify(existing)) {
    await change('config file', `${request.configFile}: ${JSON.stringify(merged)}`, async () => {
      await host.write(request.configFile, JSON.stringify(merged, null, 2) + '\n', 0o644);
      if (existingText === undefined) record.made.configFile = request.configFile;
    });
  } else steps.push({step: 'config file', status: 'ok', detail: `${request.configFile} as given`});
  if (kept.length > 0)
    steps.push({step: 'config file', status: 'kept', detail: `${kept.join(', ')} (--force replaces them)`});
}

/** 2. Directories, with the modes sandman relies on. */
async function directorySteps(
  {config, stateDir, host}: SetupDeps,
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  for (const [step, dir, mode] of [
    ['state directory', stateDir.dir, 0o755],
    ['key directory', stateDir.keysDir, 0o700],
    ['workspace root', config.workspaceRoot, 0o755],
  ] as const) {
    const current = await host.directoryMode(dir);
    if (current === mode) steps.push({step, status: 'ok', detail: `${dir} (${mode.toString(8)})`});
    else
      await change(
        step,
        `${dir} (${mode.toString(8)}${current === undefined ? '' : `, was ${current.toString(8)}`})`,
        async () => {
          await host.makeDirectory(dir, mode);
          if (current === undefined && !record.made.directories.includes(dir))
            record.made.directories.push(dir);
        },
      );
  }
}

/** 3. The workspace image. */
async function imageStep(
  {config, docker, buildImage}: SetupDeps,
  request: SetupRequest,
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  await docker.ping();
  if (await docker.imageExists(config.image))
    steps.push({step: 'image', status: 'ok', detail: `${config.image} present`});
  else
    await change('image', `build ${config.image}${request.base ? ` on ${request.base}` : ''}`, async () => {
      await buildImage(request.base);
      record.made.image = config.image;
    });
}

/**
 * 4. The reaper: systemd units (enabled), units written to --unit-dir, or a cron file. Where it
 * went is remembered, so a later setup without the flag keeps it there; a reaper moved elsewhere
 * is taken away from its old place (two reapers would each do the work).
 */
async function reaperStep(
  {host}: SetupDeps,
  request: SetupRequest,
  reaper: ReaperLocation,
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  const previous = record.reaper;
  if (previous && JSON.stringify(previous) !== JSON.stringify(reaper))
    await change('reaper', `moved away from ${describeReaper(previous)}`, async () => {
      await removeReaper(host, previous);
    });
  if (reaper.kind === 'cron') {
    const text = cronFile(request.command, request.environment);
    if ((await host.read(reaper.file)) === text)
      steps.push({step: 'reaper', status: 'ok', detail: `cron job in ${reaper.file}`});
    else
      await change('reaper', `cron job in ${reaper.file} (no systemd here)`, async () => {
        const dir = path.dirname(reaper.file);
        if ((await host.directoryMode(dir)) === undefined) record.made.directories.push(dir);
        await host.write(reaper.file, text, 0o644);
      });
    return;
  }
  const units = reaperUnits({command: request.command, environment: request.environment});
  await unitsStep(host, 'reaper', units, TIMER_NAME, reaper, record, steps, change);
}

/**
 * Units in the reaper's place: written when their text differs (an upgrade's new units say so),
 * enabled with systemctl where systemd runs them.
 */
async function unitsStep(
  host: SetupHost,
  step: string,
  units: Record<string, string>,
  enableUnit: string,
  place: {kind: 'systemd' | 'units'; dir: string},
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  const stale: string[] = [];
  for (const [name, text] of Object.entries(units))
    if ((await host.read(path.join(place.dir, name))) !== text) stale.push(name);
  if (stale.length === 0) {
    steps.push({step, status: 'ok', detail: `${enableUnit} in ${place.dir}`});
    return;
  }
  const enable = place.kind === 'systemd';
  const dirMade = (await host.directoryMode(place.dir)) === undefined;
  await change(
    step,
    `${stale.join(', ')} in ${place.dir}${enable ? ', enabled with systemctl' : ''}`,
    async () => {
      for (const [name, text] of Object.entries(units))
        await host.write(path.join(place.dir, name), text, 0o644);
      if (dirMade && !record.made.directories.includes(place.dir)) record.made.directories.push(place.dir);
      if (enable) {
        await host.systemctl(['daemon-reload']);
        await host.systemctl(['enable', '--now', enableUnit]);
      }
    },
  );
}

/**
 * 4b. The SSH gateway (`--gateway`, remembered): its keys, and its socket and service beside the
 * reaper's units. Without systemd there is no socket activation to give it.
 */
async function gatewayStep(
  {config, gatewayKeys, host}: SetupDeps,
  request: SetupRequest,
  reaper: ReaperLocation,
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  if (!request.gateway && !record.gateway) return;
  if (reaper.kind === 'cron') {
    steps.push({
      step: 'gateway',
      status: 'kept',
      detail: `no systemd on this host: run "sandman gateway --listen 0.0.0.0:${config.gatewayPort}" under a supervisor`,
    });
    return;
  }
  if (!request.dryRun) await Promise.all([gatewayKeys.hostKey(), gatewayKeys.relayKey()]);
  const units = gatewayUnits({
    command: request.command,
    environment: request.environment,
    port: config.gatewayPort,
    maxConnectionsPerSource: config.gatewayMaxConnectionsPerSource,
  });
  await unitsStep(host, 'gateway', units, GATEWAY_SOCKET_NAME, reaper, record, steps, change);
  record.gateway = true;
}

/**
 * 5b. The in-session sandman (`--self-serve`, remembered; docs/admin/sessions.md "The in-session command"): its socket on
 * the sessions network's gateway address (made by the network step) and its service.
 */
async function selfServeStep(
  {config, docker, host, stateDir}: SetupDeps,
  request: SetupRequest,
  reaper: ReaperLocation,
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  if (!request.selfServe && !record.selfServe) return;
  const port = config.selfServicePort;
  if (port === 0 || config.backend === 'swarm') {
    const why = port === 0 ? 'selfServicePort is 0' : 'not available in Swarm mode';
    steps.push({step: 'self-serve', status: 'kept', detail: `${why}: no units`});
    return;
  }
  const gateway = (await docker.networkBridge(config.network))
    ? (await docker.ensureNetwork(config.network, {[LABELS.instance]: stateDir.instance}))[0]
    : undefined;
  const listen = gateway ? `${gateway.includes(':') ? `[${gateway}]` : gateway}:${port}` : undefined;
  if (reaper.kind === 'cron' || !listen) {
    steps.push({
      step: 'self-serve',
      status: request.dryRun ? 'would' : 'kept',
      detail: !listen
        ? `on network ${config.network}'s gateway address, port ${port}, once the network exists`
        : `no systemd on this host: run "sandman self-serve --listen ${listen}" under a supervisor`,
    });
    if (reaper.kind === 'cron') record.selfServe = true;
    return;
  }
  const units = selfServeUnits({command: request.command, environment: request.environment, listen});
  await unitsStep(host, 'self-serve', units, SELF_SOCKET_NAME, reaper, record, steps, change);
  record.selfServe = true;
}

/** Takes the in-session sandman's units away (socket disabled first where systemd runs it). */
export async function removeSelfServe(host: SetupHost, place: ReaperLocation): Promise<boolean> {
  if (place.kind === 'cron') return false;
  return removeUnits(host, place, [SELF_SOCKET_NAME, SELF_SERVICE_NAME], SELF_SOCKET_NAME);
}

/** Takes the gateway's units away (socket disabled first where systemd runs it). */
export async function removeGateway(host: SetupHost, place: ReaperLocation): Promise<boolean> {
  if (place.kind === 'cron') return false;
  return removeUnits(host, place, [GATEWAY_SOCKET_NAME, GATEWAY_SERVICE_NAME], GATEWAY_SOCKET_NAME);
}

/** Units setup wrote: disabled (where systemd runs them), removed, and systemd told. */
async function removeUnits(
  host: SetupHost,
  place: {kind: 'systemd' | 'units'; dir: string},
  names: string[],
  enabled: string,
): Promise<boolean> {
  if (place.kind === 'systemd') await host.systemctl(['disable', '--now', enabled]).catch(() => undefined);
  let removed = false;
  for (const name of names) removed = (await host.remove(path.join(place.dir, name))) || removed;
  if (place.kind === 'systemd') await host.systemctl(['daemon-reload']);
  return removed;
}

/** Takes the reaper away from a place setup put it (units disabled first where systemd runs them). */
export async function removeReaper(host: SetupHost, reaper: ReaperLocation): Promise<boolean> {
  if (reaper.kind === 'cron') return host.remove(reaper.file);
  return removeUnits(host, reaper, Object.keys(reaperUnits({command: []})), TIMER_NAME);
}

/** 5. The sessions' network and its firewall rules. */
async function networkSteps(
  {config, stateDir, docker, networkBoundary}: SetupDeps,
  request: SetupRequest,
  record: SetupRecord,
  steps: SetupStep[],
  change: Change,
): Promise<void> {
  if ((await docker.networkIcc(config.network)) === undefined)
    await change('network', `create ${config.network} (inter-container traffic off)`, async () => {
      await docker.ensureNetwork(config.network, {[LABELS.instance]: stateDir.instance});
      record.made.network = config.network;
    });
  else steps.push({step: 'network', status: 'ok', detail: `${config.network} present`});
  if (request.dryRun) {
    const status = await networkBoundary.status();
    const broken = status.rules.filter((rule) => rule.status !== 'ok');
    steps.push(
      config.networkPolicy === 'off'
        ? {step: 'firewall', status: 'ok', detail: 'networkPolicy is off'}
        : status.note || broken.length > 0
          ? {
              step: 'firewall',
              status: 'would',
              detail: `add the rules around the sessions' bridge${status.note ? '' : ` (${broken.length} missing)`}`,
            }
          : {step: 'firewall', status: 'ok', detail: 'rules in place'},
    );
    return;
  }
  const restored = await networkBoundary.ensure();
  steps.push(
    restored.length > 0
      ? {step: 'firewall', status: 'done', detail: `${restored.length} rule(s) added`}
      : {
          step: 'firewall',
          status: 'ok',
          detail: config.networkPolicy === 'off' ? 'networkPolicy is off' : 'rules in place',
        },
  );
}
