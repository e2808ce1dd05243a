import path from 'node:path';

import type {Config} from '../config/config.js';
import type {HomeQuotas} from '../homes/home-quotas.js';
import type {ContainerClient} from '../runtime/docker/container-client.js';
import type {ImageClient} from '../runtime/docker/image-client.js';
import type {NetworkClient} from '../runtime/docker/network-client.js';
import {conflict} from '../core/errors.js';
import {LABELS} from '../core/labels.js';
import type {NetworkBoundary} from '../network/network-boundary.js';
import type {RemoveResult} from '../session/session-service.js';
import type {StateDir} from '../state/state-dir.js';
import type {StateStore} from '../state/state-store.js';
import {workspacePath} from '../homes/workspace.js';
import {removeGateway, removeReaper, removeSelfServe} from './set-up-host.js';
import type {SetupHost, SetupStep} from './setup-host.js';
import {GATEWAY_SOCKET_NAME, SELF_SOCKET_NAME} from './systemd-units.js';
import {describeReaper, reaperLocation, readSetupRecord} from './setup-record.js';
import {CRON_HEADER} from './systemd-units.js';

export interface RemoveSetupRequest {
  dryRun: boolean;
  /** Also the homes, the state file, keys, CA and the config file setup wrote. */
  purge: boolean;
  /** Remove running sessions first instead of refusing. */
  force: boolean;
  unitDir?: string;
  cronFile?: string;
}

export interface RemoveSetupDeps {
  config: Config;
  stateDir: StateDir;
  host: SetupHost;
  docker: ContainerClient & ImageClient & NetworkClient;
  store: StateStore;
  networkBoundary: Pick<NetworkBoundary, 'remove'>;
  removeAllSessions: () => Promise<RemoveResult>;
  /** Homes under quotas (docs/admin/disk-quotas.md): a loop image is unmounted before its home goes. */
  homeQuotas?: () => Promise<{quotas?: HomeQuotas}>;
}

/**
 * `sandman setup --remove` (docs/admin/install.md "Removing sandman from a host"): undoes what setup made, in the
 * reverse order: sessions (only with --force), the reaper, the firewall rules, the sessions'
 * network, the image setup built. Homes, the state file and the CA stay unless --purge. Each step
 * treats "already gone" as done, so a second run, or one after a half-failed run, finishes the job.
 */
export async function removeSetup(deps: RemoveSetupDeps, request: RemoveSetupRequest): Promise<SetupStep[]> {
  const {config, stateDir, host, docker} = deps;
  const steps: SetupStep[] = [];
  const step = async (name: string, detail: string, work: () => Promise<boolean>) => {
    if (request.dryRun) steps.push({step: name, status: 'would', detail: `remove ${detail}`});
    else steps.push({step: name, status: (await work()) ? 'done' : 'ok', detail});
  };
  const record = await readSetupRecord(host.read, stateDir.setupRecord);
  const state = await deps.store.read();

  // 1. Sessions: their containers hold the network and the image. Containers of this setup with
  // no record (a lost state file, a create killed outright) count too, as the reaper's orphans.
  const recorded = new Set(state.sessions.map((session) => session.container_name));
  const orphans = (await docker.listContainers({[LABELS.instance]: stateDir.instance})).filter(
    (container) => !recorded.has(container.name),
  );
  const held = [
    ...state.sessions.map((session) => `${session.id} for ${session.user}`),
    ...orphans.map((container) => `container ${container.name} (no record)`),
  ];
  if (held.length > 0 && !request.force)
    throw conflict(
      `${held.length} session(s) exist (${held.join(', ')}): ` +
        'remove them first ("sandman session rm --all", "sandman reap") or add --force, which removes them',
    );
  if (held.length > 0)
    await step('sessions', `${held.length} session(s), homes kept`, async () => {
      const {errors} = await deps.removeAllSessions();
      if (errors[0]) throw errors[0].error;
      for (const container of orphans) await docker.removeContainer(container.name);
      return true;
    });
  else steps.push({step: 'sessions', status: 'ok', detail: 'none'});

  // 2. The SSH gateway's socket and service (they sit beside the reaper's units), then the
  // reaper, where setup put it (or where the flags say).
  const reaper = reaperLocation(request, record, await host.systemd());
  if (record?.gateway && reaper.kind !== 'cron')
    await step('gateway', `${GATEWAY_SOCKET_NAME} in ${reaper.dir}`, () => removeGateway(host, reaper));
  if (record?.selfServe && reaper.kind !== 'cron')
    await step('self-serve', `${SELF_SOCKET_NAME} in ${reaper.dir}`, () => removeSelfServe(host, reaper));
  const cron = reaper.kind === 'cron' ? await host.read(reaper.file) : undefined;
  if (reaper.kind === 'cron' && cron === undefined)
    steps.push({step: 'reaper', status: 'ok', detail: `no cron job in ${reaper.file}`});
  else if (reaper.kind === 'cron' && !record?.reaper && !cron!.startsWith(CRON_HEADER))
    steps.push({step: 'reaper', status: 'kept', detail: `${reaper.file} was not written by sandman setup`});
  else
    await step('reaper', describeReaper(reaper), async () => {
      const removed = await removeReaper(host, reaper);
      // A directory setup created for it goes too, once empty.
      const dir = reaper.kind === 'cron' ? path.dirname(reaper.file) : reaper.dir;
      if (record?.made.directories.includes(dir)) await host.removeEmptyDirectory(dir);
      return removed;
    });

  // 3. Firewall chains and the jumps to them.
  const rules = await deps.networkBoundary.remove(true);
  if (rules.length === 0) steps.push({step: 'firewall', status: 'ok', detail: 'no sandman rules'});
  else
    await step('firewall', `${rules.length} chain(s) and rule(s) of this setup`, async () => {
      await deps.networkBoundary.remove(false);
      return true;
    });

  // 4. The sessions' network (only this setup's: it carries the instance label).
  if ((await docker.networkIcc(config.network)) === undefined)
    steps.push({step: 'network', status: 'ok', detail: `${config.network} absent`});
  else if (request.dryRun) steps.push({step: 'network', status: 'would', detail: `remove ${config.network}`});
  else {
    const outcome = await docker.removeNetwork(config.network, {[LABELS.instance]: stateDir.instance});
    steps.push(
      outcome === 'foreign'
        ? {
            step: 'network',
            status: 'kept',
            detail: `${config.network} is not this setup's (no instance label)`,
          }
        : {step: 'network', status: outcome === 'removed' ? 'done' : 'ok', detail: config.network},
    );
  }

  // 5. The image, when setup built it; an image that was there before setup stays.
  if (record?.made.image)
    await step(
      'image',
      record.made.image,
      async () => (await docker.removeImage(record.made.image!)) === 'removed',
    );
  else if (await docker.imageExists(config.image))
    steps.push({step: 'image', status: 'kept', detail: `${config.image} was not built by setup`});

  // 6. What people made and sandman's own identity: only with --purge.
  if (!request.purge) {
    steps.push({step: 'homes', status: 'kept', detail: `${config.workspaceRoot} (--purge removes them)`});
    steps.push({
      step: 'state',
      status: 'kept',
      detail: `${stateDir.file}, keys and CA (--purge removes them)`,
    });
  } else {
    const homes = Object.keys(state.users).map((user) => workspacePath(config.workspaceRoot, user));
    const made = record?.made.directories ?? [];
    const root = made.includes(config.workspaceRoot) ? [config.workspaceRoot] : homes;
    await step('homes', root.join(', ') || 'none', async () => {
      const quotas = (await deps.homeQuotas?.())?.quotas;
      for (const home of homes) await quotas?.detach(home);
      let removed = false;
      for (const dir of root) removed = (await host.removeTree(dir)) || removed;
      return removed;
    });
    await step(
      'state',
      `${stateDir.file}, keys, CA${record?.made.apiTokenFile ? ' and API token' : ''}`,
      async () => {
        let removed = false;
        const token = record?.made.apiTokenFile;
        for (const file of [
          stateDir.file,
          `${stateDir.file}.lock`,
          stateDir.setupRecord,
          ...(token ? [token] : []),
        ])
          removed = (await host.remove(file)) || removed;
        // The gateway's directory holds sandman's relay key, which every session accepted.
        for (const dir of [stateDir.keysDir, stateDir.caDir, stateDir.gatewayDir])
          removed = (await host.removeTree(dir)) || removed;
        if (made.includes(stateDir.dir)) removed = (await host.removeTree(stateDir.dir)) || removed;
        return removed;
      },
    );
    if (record?.made.configFile)
      await step('config file', record.made.configFile, () => host.remove(record.made.configFile!));
  }
  // The record keeps what is still there for a later --purge (directories, the config file).
  if (!request.dryRun && record && !request.purge) {
    const rest = {...record, reaper: undefined, made: {...record.made, image: undefined, network: undefined}};
    await host.write(stateDir.setupRecord, JSON.stringify(rest, null, 2) + '\n', 0o644);
  }
  return steps;
}
