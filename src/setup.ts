import path from 'node:path';

import type {Config, SettingName} from './config.js';
import type {ContainerClient} from './docker/container-client.js';
import type {Check} from './doctor.js';
import {LABELS} from './labels.js';
import type {NetworkBoundary} from './network/network-boundary.js';
import type {StateDir} from './state-dir.js';
import {cronLine, reaperUnits, TIMER_NAME} from './systemd-units.js';

/** The host as setup changes it (implemented on the file system and systemctl). */
export interface SetupHost {
  /** Mode of an existing directory, undefined when there is none. */
  directoryMode(dir: string): Promise<number | undefined>;
  makeDirectory(dir: string, mode: number): Promise<void>;
  read(file: string): Promise<string | undefined>;
  write(file: string, text: string, mode: number): Promise<void>;
  /** Whether systemd runs this host (PID 1). */
  systemd(): Promise<boolean>;
  systemctl(args: string[]): Promise<void>;
}

export interface SetupRequest {
  dryRun: boolean;
  force: boolean;
  /** Base image for the workspace image, when it has to be built. */
  base?: string;
  /** Write the reaper's units here (and enable nothing); otherwise systemd's directory or cron. */
  unitDir?: string;
  cronFile: string;
  /** The config file and the settings given on the command line, to be kept there. */
  configFile: string;
  given: Partial<Record<SettingName, string>>;
  /** The CLI as a unit or cron job runs it, and the environment the units carry. */
  command: string[];
  environment: Record<string, string>;
  imageContext: string;
}

export interface SetupStep {
  step: string;
  /** done: changed now; ok: already so; would: a dry run's change; kept: left as it was on purpose. */
  status: 'done' | 'ok' | 'would' | 'kept';
  detail: string;
}

export interface SetupDeps {
  config: Config;
  stateDir: StateDir;
  host: SetupHost;
  docker: ContainerClient;
  networkBoundary: Pick<NetworkBoundary, 'ensure' | 'status'>;
  buildImage: (base: string | undefined) => Promise<void>;
  doctor: (unitDir: string, cronFile: string) => Promise<Check[]>;
}

const SYSTEMD_DIR = '/etc/systemd/system';

/**
 * `sandman setup` (README "Install"): each step checks first and changes only what is missing, so
 * a second run changes nothing and says so; a dry run says what each step would do.
 */
export async function setUpHost(
  deps: SetupDeps,
  request: SetupRequest,
): Promise<{steps: SetupStep[]; checks: Check[]}> {
  const steps: SetupStep[] = [];
  const change = async (step: string, detail: string, work: () => Promise<void>) => {
    if (request.dryRun) return steps.push({step, status: 'would', detail});
    await work();
    return steps.push({step, status: 'done', detail});
  };
  const {config, stateDir, host} = deps;

  // 1. The configuration file keeps what was given; values already there stay unless --force.
  const existingText = await host.read(request.configFile);
  const existing = existingText ? (JSON.parse(existingText) as Record<string, unknown>) : {};
  const merged = {...existing};
  const kept: string[] = [];
  for (const [name, value] of Object.entries(request.given)) {
    if (value === undefined || existing[name] === value) continue;
    if (name in existing && !request.force) kept.push(`${name}=${JSON.stringify(existing[name])}`);
    else merged[name] = value;
  }
  if (JSON.stringify(merged) !== JSON.stringify(existing)) {
    await change('config file', `${request.configFile}: ${JSON.stringify(merged)}`, () =>
      host.write(request.configFile, JSON.stringify(merged, null, 2) + '\n', 0o644),
    );
  } else steps.push({step: 'config file', status: 'ok', detail: `${request.configFile} as given`});
  if (kept.length > 0)
    steps.push({step: 'config file', status: 'kept', detail: `${kept.join(', ')} (--force replaces them)`});

  // 2. Directories, with the modes sandman relies on.
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
        () => host.makeDirectory(dir, mode),
      );
  }

  // 3. The workspace image.
  await deps.docker.ping();
  if (await deps.docker.imageExists(config.image))
    steps.push({step: 'image', status: 'ok', detail: `${config.image} present`});
  else
    await change('image', `build ${config.image}${request.base ? ` on ${request.base}` : ''}`, () =>
      deps.buildImage(request.base),
    );

  // 4. The reaper: systemd units (enabled when systemd runs the host) or a cron file.
  const units = reaperUnits({command: request.command, environment: request.environment});
  const systemd = request.unitDir === undefined && (await host.systemd());
  if (request.unitDir !== undefined || systemd) {
    const dir = request.unitDir ?? SYSTEMD_DIR;
    const stale: string[] = [];
    for (const [name, text] of Object.entries(units))
      if ((await host.read(path.join(dir, name))) !== text) stale.push(name);
    if (stale.length === 0) steps.push({step: 'reaper', status: 'ok', detail: `${TIMER_NAME} in ${dir}`});
    else
      await change(
        'reaper',
        `${stale.join(', ')} in ${dir}${systemd ? `, enabled with systemctl` : ''}`,
        async () => {
          for (const [name, text] of Object.entries(units))
            await host.write(path.join(dir, name), text, 0o644);
          if (systemd) {
            await host.systemctl(['daemon-reload']);
            await host.systemctl(['enable', '--now', TIMER_NAME]);
          }
        },
      );
  } else {
    const line = `# Written by "sandman setup": the reaper, every minute.\n${cronLine(request.command)}\n`;
    if ((await host.read(request.cronFile)) === line)
      steps.push({step: 'reaper', status: 'ok', detail: `cron job in ${request.cronFile}`});
    else
      await change('reaper', `cron job in ${request.cronFile} (no systemd here)`, () =>
        host.write(request.cronFile, line, 0o644),
      );
  }

  // 5. The sessions' network and its firewall rules.
  if ((await deps.docker.networkIcc(config.network)) === undefined)
    await change('network', `create ${config.network} (inter-container traffic off)`, () =>
      deps.docker.ensureNetwork(config.network, {[LABELS.instance]: stateDir.instance}),
    );
  else steps.push({step: 'network', status: 'ok', detail: `${config.network} present`});
  if (request.dryRun) {
    const status = await deps.networkBoundary.status();
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
  } else {
    const restored = await deps.networkBoundary.ensure();
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

  // 6. What doctor still finds.
  const checks = request.dryRun ? [] : await deps.doctor(request.unitDir ?? SYSTEMD_DIR, request.cronFile);
  return {steps, checks};
}
