import path from 'node:path';

import type {Config} from '../config/config.js';
import type {GpuDevice} from '../gpu/gpu-types.js';
import type {NvidiaSmi} from '../gpu/nvidia-smi.js';
import {invalidInput} from '../core/errors.js';
import type {SetupHost, SetupStep} from '../setup/setup-host.js';
import {NODE_FIREWALL_TIMER, nodeFirewallUnits} from '../setup/systemd-units.js';
import type {NamedResource} from './cluster.js';
import {migKind, nodeBridge, nodeNetwork, resourceVariable, WHOLE_GPU_KIND} from './swarm-names.js';

const SYSTEMD_DIR = '/etc/systemd/system';

/** The node's own engine: the configuration-only network the sessions' swarm network is made from. */
export interface NodeNetworks {
  /** The options of a network on this engine; undefined when there is none. */
  networkOptions(name: string): Promise<Record<string, string> | undefined>;
  createConfigOnlyNetwork(name: string, options: Record<string, string>): Promise<void>;
}

export interface NodeSetupRequest {
  apply: boolean;
  /** Only the firewall rules (what the node's timer runs every minute). */
  firewallOnly: boolean;
  daemonJson: string;
  runtimeConfig: string;
  /** Write the timer units here; otherwise systemd's directory, enabled when systemd runs the node. */
  unitDir?: string;
  /** The CLI as the timer runs it, and the environment it carries. */
  command: string[];
  environment: Record<string, string>;
}

export interface NodeSetupDeps {
  config: Config;
  /** sandman's state directory on this node: the firewall repair takes its lock there. */
  stateDir: string;
  smi: NvidiaSmi;
  host: SetupHost;
  networks: NodeNetworks;
  /** The node's firewall rules around the sessions' bridge (docs/admin/network.md). */
  firewall: {
    ensure(): Promise<unknown[]>;
    status(): Promise<{rules: Array<{status: string}>; note?: string}>;
  };
}

export interface NodeSetupResult {
  steps: SetupStep[];
  /** The devices the node advertises to Swarm. */
  resources: NamedResource[];
  daemon_json: Record<string, unknown>;
  swarm_resource: string | null;
  /** daemon.json changes (or would): dockerd reads it at start only. */
  restart_dockerd: boolean;
}

/** The generic resources a node advertises: each MIG device under its profile's kind, whole GPUs as NVIDIA-GPU. */
export function nodeResources(gpus: GpuDevice[]): NamedResource[] {
  return gpus.flatMap((gpu) =>
    gpu.migDevices.length > 0
      ? gpu.migDevices.map((device) => ({kind: migKind(device.profile), value: device.uuid}))
      : [{kind: WHOLE_GPU_KIND, value: gpu.uuid}],
  );
}

/** daemon.json with the node's generic resources and NVIDIA's runtime as the default; other keys kept. */
export function daemonJsonWith(
  existing: string | undefined,
  resources: NamedResource[],
): Record<string, unknown> {
  let json: Record<string, unknown> = {};
  if (existing?.trim()) {
    try {
      json = JSON.parse(existing) as Record<string, unknown>;
    } catch (error) {
      throw invalidInput(`daemon.json is not valid JSON: ${(error as Error).message}`);
    }
  }
  const next = {...json};
  if (resources.length === 0) {
    delete next['node-generic-resources'];
    return next;
  }
  next['node-generic-resources'] = resources.map((resource) => `${resource.kind}=${resource.value}`);
  // Swarm hands a task its devices as DOCKER_RESOURCE_* variables; NVIDIA's runtime turns them
  // into the container's GPUs (swarm-resource, below), so it must run every container.
  const runtimes = (next.runtimes as Record<string, unknown> | undefined) ?? {};
  next.runtimes = {
    ...runtimes,
    nvidia: runtimes.nvidia ?? {path: 'nvidia-container-runtime', runtimeArgs: []},
  };
  next['default-runtime'] = 'nvidia';
  return next;
}

/** The runtime's `swarm-resource`: every DOCKER_RESOURCE_* variable of the kinds the node advertises. */
export function swarmResourceValue(resources: NamedResource[]): string | null {
  const names = [...new Set(resources.map((resource) => resourceVariable(resource.kind)))].sort();
  return names.length > 0 ? names.join(',') : null;
}

/** config.toml with swarm-resource set at the top level (replacing a commented or older line). */
export function runtimeConfigWith(existing: string | undefined, value: string): string {
  const line = `swarm-resource = "${value}"`;
  const text = existing ?? '';
  if (/^#?\s*swarm-resource\s*=.*$/m.test(text)) return text.replace(/^#?\s*swarm-resource\s*=.*$/m, line);
  // Top-level keys come before the first [section].
  const section = text.search(/^\[/m);
  if (section < 0) return `${text}${text && !text.endsWith('\n') ? '\n' : ''}${line}\n`;
  return `${text.slice(0, section)}${line}\n\n${text.slice(section)}`;
}

/**
 * `sandman node setup` (docs/admin/swarm.md), run on every node: what the node advertises to Swarm
 * (its GPUs and MIG devices from the local nvidia-smi), NVIDIA's runtime settings for Swarm, the
 * sessions' configuration network, the firewall rules and a timer that keeps them. Without --apply
 * it only says what it would write.
 */
export async function setUpNode(deps: NodeSetupDeps, request: NodeSetupRequest): Promise<NodeSetupResult> {
  const {config, host} = deps;
  const steps: SetupStep[] = [];
  const change = async (step: string, detail: string, work: () => Promise<void>) => {
    if (!request.apply) return steps.push({step, status: 'would', detail});
    await work();
    return steps.push({step, status: 'done', detail});
  };

  const gpus = request.firewallOnly || !(await deps.smi.available()) ? [] : await deps.smi.list();
  const resources = nodeResources(gpus);
  const existingDaemon = await host.read(request.daemonJson);
  const daemon = daemonJsonWith(existingDaemon, resources);
  const swarmResource = swarmResourceValue(resources);
  let restart = false;

  if (!request.firewallOnly) {
    // 1. What the node advertises: dockerd reads daemon.json at start.
    const daemonText = JSON.stringify(daemon, null, 2) + '\n';
    const before = existingDaemon?.trim() ? JSON.stringify(JSON.parse(existingDaemon)) : '{}';
    if (before === JSON.stringify(daemon))
      steps.push({
        step: 'daemon.json',
        status: 'ok',
        detail: `${request.daemonJson}: ${resources.length} device(s) advertised`,
      });
    else {
      restart = true;
      await change(
        'daemon.json',
        `${request.daemonJson}: node-generic-resources ${resources.length} device(s); restart dockerd afterwards`,
        () => host.write(request.daemonJson, daemonText, 0o644),
      );
    }

    // 2. NVIDIA's runtime gives a task the devices Swarm assigned it.
    if (swarmResource) {
      const existing = await host.read(request.runtimeConfig);
      const next = runtimeConfigWith(existing, swarmResource);
      if (existing === next)
        steps.push({
          step: 'runtime config',
          status: 'ok',
          detail: `${request.runtimeConfig}: swarm-resource set`,
        });
      else
        await change('runtime config', `${request.runtimeConfig}: swarm-resource = "${swarmResource}"`, () =>
          host.write(request.runtimeConfig, next, 0o644),
        );
    } else steps.push({step: 'runtime config', status: 'ok', detail: 'no GPUs here: nothing to set'});

    // 3. The configuration the sessions' swarm network takes on this node.
    const name = nodeNetwork(config.network);
    const options = {
      'com.docker.network.bridge.enable_icc': 'false',
      'com.docker.network.bridge.name': nodeBridge(config.network),
    };
    const current = await deps.networks.networkOptions(name);
    if (current && Object.entries(options).every(([key, value]) => current[key] === value))
      steps.push({step: 'network', status: 'ok', detail: `${name} present`});
    else if (current)
      steps.push({
        step: 'network',
        status: 'kept',
        detail: `${name} exists with other options; remove it (docker network rm ${name}) and run again`,
      });
    else
      await change(
        'network',
        `create ${name} (configuration only: inter-container traffic off, bridge ${options['com.docker.network.bridge.name']})`,
        () => deps.networks.createConfigOnlyNetwork(name, options),
      );
  }

  // 4. The host-protection rules, and the node's timer that keeps them.
  if (request.apply && (await host.directoryMode(deps.stateDir)) === undefined)
    await host.makeDirectory(deps.stateDir, 0o755);
  if (config.networkPolicy === 'off')
    steps.push({step: 'firewall', status: 'ok', detail: 'networkPolicy is off'});
  else if (!request.apply) {
    const status = await deps.firewall.status();
    const broken = status.rules.filter((rule) => rule.status !== 'ok').length;
    steps.push(
      status.note || broken > 0
        ? {step: 'firewall', status: 'would', detail: `add the rules around ${nodeBridge(config.network)}`}
        : {step: 'firewall', status: 'ok', detail: 'rules in place'},
    );
  } else {
    const restored = await deps.firewall.ensure();
    steps.push(
      restored.length > 0
        ? {
            step: 'firewall',
            status: 'done',
            detail: `${restored.length} rule(s) added around ${nodeBridge(config.network)}`,
          }
        : {step: 'firewall', status: 'ok', detail: 'rules in place'},
    );
  }
  if (!request.firewallOnly) {
    const units = nodeFirewallUnits(request.command, request.environment);
    const systemd = request.unitDir === undefined && (await host.systemd());
    const dir = request.unitDir ?? SYSTEMD_DIR;
    const stale: string[] = [];
    for (const [unit, text] of Object.entries(units))
      if ((await host.read(path.join(dir, unit))) !== text) stale.push(unit);
    if (stale.length === 0)
      steps.push({step: 'firewall timer', status: 'ok', detail: `${NODE_FIREWALL_TIMER} in ${dir}`});
    else if (request.unitDir === undefined && !systemd)
      steps.push({
        step: 'firewall timer',
        status: 'kept',
        detail: 'no systemd here: run "sandman node setup --apply --firewall-only" every minute (cron)',
      });
    else
      await change(
        'firewall timer',
        `${stale.join(', ')} in ${dir}${systemd ? ', enabled with systemctl' : ''}`,
        async () => {
          for (const [unit, text] of Object.entries(units))
            await host.write(path.join(dir, unit), text, 0o644);
          if (systemd) {
            await host.systemctl(['daemon-reload']);
            await host.systemctl(['enable', '--now', NODE_FIREWALL_TIMER]);
          }
        },
      );
  }
  return {steps, resources, daemon_json: daemon, swarm_resource: swarmResource, restart_dockerd: restart};
}
