import {STATE_VERSION} from '../state/state-data.js';
import path from 'node:path';

import type {Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import type {QuotaChoice} from '../homes/home-quotas.js';
import type {EngineClient} from '../runtime/docker/engine-client.js';
import {isSandmanError} from '../core/errors.js';
import type {NvidiaSmi} from '../gpu/nvidia-smi.js';
import type {DcgmExporter} from '../gpu/dcgm-exporter.js';
import {checkGpuIdleness} from './gpu-idle-check.js';
import type {HostFiles} from '../host/host-files.js';
import type {NetworkBoundary} from '../network/network-boundary.js';
import {LABELS} from '../core/labels.js';
import {reapFreshness} from '../reap/reap-freshness.js';
import {isAtRest} from '../reap/reap-plan.js';
import type {StateStore} from '../state/state-store.js';
import type {ReaperLocation} from './setup-record.js';
import {describeAccount, type HostAccounts} from '../users/host-accounts.js';
import {clashFix, hostAccountsHolding} from '../users/uids.js';
import {TIMER_NAME} from './systemd-units.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it (empty when ok). */
  hint: string;
}

export interface DoctorDeps {
  config: Config;
  docker: EngineClient;
  smi: NvidiaSmi;
  store: StateStore;
  files: HostFiles;
  /** Where the engine is reached (DOCKER_HOST or the default socket), for the report. */
  engineAddress: string;
  instance: string;
  networkBoundary: Pick<NetworkBoundary, 'status'>;
  /** Where the reaper runs from (setup's record, the command line, or systemd/cron by default). */
  reaper: ReaperLocation;
  /** The host's accounts: no sandman user's uid may be one of theirs (docs/admin/users-and-limits.md "Uids and host accounts"). */
  hostAccounts: HostAccounts;
  /** When setup last ran (its record), if it did: a first reap is due within three intervals. */
  setupAt?: string;
  clock: Clock;
  /** The runtime's own checks (Swarm mode: the cluster's, docs/admin/swarm.md). */
  runtimeChecks?: () => Promise<Check[]>;
  /** The API's token and units and the SSH gateway's units (src/setup/service-checks.ts). */
  serviceChecks?: () => Promise<Check[]>;
  /** The home quota mechanism under workspaceRoot (docs/admin/disk-quotas.md). */
  homeQuotas?: () => Promise<{choice: QuotaChoice; quotas?: unknown}>;
  /** dcgm-exporter (dcgmExporterUrl), for MIG devices' utilisation (docs/admin/notifications-and-idleness.md "GPU idleness"). */
  dcgm?: DcgmExporter;
  /** SMTP and the admin's webhook, when configured (src/notify/notify-checks.ts). */
  notifyChecks?: () => Promise<Check[]>;
}

const ok = (name: string, detail: string): Check => ({name, status: 'ok', detail, hint: ''});

/** `sandman doctor`: each check independent, so one broken part never hides the others. */
export async function runDoctor(deps: DoctorDeps): Promise<Check[]> {
  const engine = await checkEngine(deps);
  const checks = [engine];
  const engineUp = engine.status === 'ok';
  checks.push(await checkImage(deps, engineUp), await checkNetwork(deps, engineUp), await checkGpus(deps));
  checks.push(await checkState(deps, engineUp), await checkPorts(deps), await checkReaper(deps));
  checks.push(await checkNetworkPolicy(deps, engineUp), await checkUidClashes(deps));
  if (deps.serviceChecks) checks.push(...(await deps.serviceChecks()));
  if (deps.homeQuotas) checks.push(await checkQuotas(deps));
  if (engineUp) checks.push(await checkContainerDisk(deps));
  const gpuIdle = await checkGpuIdleness(deps);
  if (gpuIdle) checks.push(gpuIdle);
  if (deps.runtimeChecks && engineUp) checks.push(...(await deps.runtimeChecks()));
  if (deps.notifyChecks) checks.push(...(await deps.notifyChecks()));
  return checks;
}

async function checkEngine({docker, engineAddress}: DoctorDeps): Promise<Check> {
  try {
    await docker.ping();
    return ok('docker engine', `reachable at ${engineAddress}`);
  } catch (error) {
    return {
      name: 'docker engine',
      status: 'fail',
      detail: (error as Error).message,
      hint: 'start it (systemctl start docker) or point DOCKER_HOST at it',
    };
  }
}

const skipped = (name: string): Check => ({
  name,
  status: 'fail',
  detail: 'not checked: Docker engine unreachable',
  hint: 'fix the Docker engine first',
});

async function checkImage({docker, config}: DoctorDeps, engineUp: boolean): Promise<Check> {
  if (!engineUp) return skipped('image');
  if (await docker.imageExists(config.image)) return ok('image', `${config.image} present`);
  return {
    name: 'image',
    status: 'fail',
    detail: `${config.image} not found`,
    hint: 'build it: sandman image build --base nvidia/cuda:12.6.3-runtime-ubuntu24.04',
  };
}

async function checkNetwork({docker, config}: DoctorDeps, engineUp: boolean): Promise<Check> {
  if (!engineUp) return skipped('network');
  const icc = await docker.networkIcc(config.network);
  if (icc === undefined) {
    return {
      name: 'network',
      status: 'warn',
      detail: `${config.network} does not exist yet`,
      hint: 'it is created by the first session create',
    };
  }
  if (icc) {
    return {
      name: 'network',
      status: 'fail',
      detail: `${config.network} allows traffic between containers: sessions can reach each other`,
      hint: `remove it (docker network rm ${config.network}) when no session uses it; sandman recreates it isolated`,
    };
  }
  return ok('network', `${config.network}: bridge, inter-container traffic off`);
}

async function checkGpus({smi, config}: DoctorDeps): Promise<Check> {
  if (!(await smi.available())) {
    return {
      name: 'nvidia-smi',
      status: 'warn',
      detail: `${config.nvidiaSmi} not found: sessions get no GPU`,
      hint: 'install the NVIDIA driver and container toolkit on GPU hosts',
    };
  }
  try {
    const gpus = await smi.list();
    const mig = gpus.filter((gpu) => gpu.migDevices.length > 0);
    const devices = mig.reduce((sum, gpu) => sum + gpu.migDevices.length, 0);
    const detail = `${gpus.length} GPU(s); ${mig.length > 0 ? `MIG on GPU ${mig.map((gpu) => gpu.index).join(', ')} with ${devices} device(s)` : 'no MIG devices'}; migMode ${config.migMode}`;
    if (
      config.migMode === 'pool' &&
      gpus.length > 0 &&
      devices === 0 &&
      gpus.every((gpu) => gpu.migDevices.length === 0)
    ) {
      return {name: 'nvidia-smi', status: 'ok', detail: `${detail} (whole GPUs are handed out)`, hint: ''};
    }
    return ok('nvidia-smi', detail);
  } catch (error) {
    return {
      name: 'nvidia-smi',
      status: 'fail',
      detail: (error as Error).message,
      hint: 'run nvidia-smi by hand to see what the driver says',
    };
  }
}

async function checkState({store, docker, instance}: DoctorDeps, engineUp: boolean): Promise<Check> {
  let sessions;
  try {
    sessions = (await store.read()).sessions;
  } catch (error) {
    const message = isSandmanError(error)
      ? error.message.split('; it was left untouched')[0]
      : (error as Error).message;
    if (/newer than this sandman/.test(message ?? ''))
      return {
        name: 'state file',
        status: 'fail',
        detail: message ?? String(error),
        hint: 'a newer sandman wrote it: install that sandman (or a later one) again; this one never rewrites it',
      };
    return {
      name: 'state file',
      status: 'fail',
      detail: message ?? String(error),
      hint:
        `sandman never overwrites it. To recover: stop the timer (systemctl stop ${TIMER_NAME}); ` +
        `restore a backup of ${store.file}, or fix it by hand (it is JSON: jq . ${store.file} shows where it breaks), ` +
        `or move it aside (mv ${store.file} ${store.file}.broken) and run "sandman reap", which then removes every ` +
        'sandman container of this instance as an orphan (workspaces are kept); then start the timer again',
    };
  }
  if (!engineUp)
    return {
      name: 'state file',
      status: 'warn',
      detail: `${sessions.length} session(s); not compared with Docker (engine unreachable)`,
      hint: '',
    };
  const containers = await docker.listContainers({[LABELS.instance]: instance});
  const ids = new Set(containers.map((container) => container.id));
  // A stopped session's container is at rest on purpose (docs/admin/sessions.md "Stop and start").
  const stopped = containers.filter(
    (container) =>
      isAtRest(container) &&
      sessions.some((session) => session.container_id === container.id && session.status !== 'stopped'),
  );
  const recorded = new Set(sessions.map((session) => session.id));
  const dangling = sessions.filter(
    (session) =>
      (session.status === 'running' || session.status === 'stopped') &&
      session.container_id &&
      !ids.has(session.container_id),
  );
  const orphans = containers.filter((container) => !recorded.has(container.labels[LABELS.session] ?? ''));
  // docs/admin/upgrades-and-backups.md "Upgrading": an earlier version is migrated at the first write (a copy is kept).
  const onDisk = await store.diskVersion?.().catch(() => undefined);
  const version =
    onDisk === undefined
      ? ''
      : onDisk === STATE_VERSION
        ? ` (version ${onDisk})`
        : ` (version ${onDisk}, migrated to ${STATE_VERSION} at the next change)`;
  const detail = `${store.file}${version}: ${sessions.length} session(s), ${containers.length} container(s)`;
  if (dangling.length === 0 && orphans.length === 0 && stopped.length === 0)
    return ok('state file', `${detail}, consistent`);
  const lostStopped = dangling.filter((session) => session.status === 'stopped');
  const problems = [
    `${dangling.length} record(s) without container${lostStopped.length > 0 ? ` (${lostStopped.length} stopped: ${lostStopped.map((session) => session.id).join(', ')}; their files outside the home are lost)` : ''}`,
    `${orphans.length} container(s) without record`,
    `${stopped.length} session container(s) not running${stopped.length > 0 ? ` (${stopped.map((c) => c.name).join(', ')})` : ''}`,
  ];
  return {
    name: 'state file',
    status: 'warn',
    detail: `${detail}; ${problems.join(', ')}`,
    hint: 'run "sandman reap" to repair: it removes what is left over and starts (or moves) stopped sessions (sandman reap --dry-run shows what it would do)',
  };
}

async function checkPorts({config, store, files}: DoctorDeps): Promise<Check> {
  const size = config.sshPortEnd - config.sshPortStart + 1;
  const used = (await store.read().catch(() => ({sessions: []}))).sessions.length;
  const ephemeral = (await files.read('/proc/sys/net/ipv4/ip_local_port_range')) ?? '';
  const [low, high] = ephemeral.trim().split(/\s+/).map(Number);
  const detail = `${config.sshPortStart}-${config.sshPortEnd}: ${size} port(s), ${used} held by sessions`;
  if (low !== undefined && high !== undefined && config.sshPortStart <= high && config.sshPortEnd >= low) {
    return {
      name: 'port range',
      status: 'warn',
      detail: `${detail}; overlaps the kernel's ephemeral ports ${low}-${high}`,
      hint: 'outgoing connections may take ports sandman wants; move the range below the ephemeral range',
    };
  }
  if (size - used < Math.max(1, size / 10)) {
    return {
      name: 'port range',
      status: 'warn',
      detail: `${detail}; almost full`,
      hint: 'widen sshPortStart/sshPortEnd',
    };
  }
  return ok('port range', detail);
}

async function checkReaper({reaper, files, store, clock, setupAt}: DoctorDeps): Promise<Check> {
  let installed: string | undefined;
  if (reaper.kind === 'cron') {
    if (/\breap\b/.test((await files.read(reaper.file)) ?? '')) installed = `cron job in ${reaper.file}`;
  } else {
    const timer = path.join(reaper.dir, TIMER_NAME);
    if (await files.exists(timer)) installed = `${timer} installed`;
  }
  if (installed === undefined)
    return {
      name: 'reaper',
      status: 'fail',
      detail: `no ${reaper.kind === 'cron' ? `cron job in ${reaper.file}` : `${TIMER_NAME} in ${reaper.dir}`}: expired sessions are never removed`,
      hint: 'sandman setup installs it (or: sandman systemd install && systemctl daemon-reload && systemctl enable --now sandman-reap.timer)',
    };
  // Installed is not running: the state records each reap's time (the state check says if unreadable).
  const state = await store.read().catch(() => undefined);
  if (!state) return ok('reaper', installed);
  const fresh = reapFreshness(reaper, state.counters?.last_reap_at, setupAt, clock.now());
  if (!fresh.stale) return ok('reaper', `${installed}; ${fresh.detail}`);
  return {name: 'reaper', status: 'warn', detail: `${installed}, but ${fresh.detail}`, hint: fresh.hint};
}

async function checkNetworkPolicy({networkBoundary}: DoctorDeps, engineUp: boolean): Promise<Check> {
  if (!engineUp) return skipped('network policy');
  try {
    const status = await networkBoundary.status();
    if (!status.enabled)
      return {
        name: 'network policy',
        status: 'warn',
        detail: status.note ?? 'off',
        hint: 'set networkPolicy=on',
      };
    if (status.note) return {name: 'network policy', status: 'warn', detail: status.note, hint: ''};
    const broken = status.rules.filter((rule) => rule.status !== 'ok');
    if (broken.length === 0)
      return ok('network policy', `${status.rules.length} rule(s) in place on ${status.policy?.bridge}`);
    return {
      name: 'network policy',
      status: 'fail',
      detail: broken.map((rule) => `IPv${rule.family} ${rule.name} ${rule.status}`).join('; '),
      hint: 'run "sandman reap" to restore them (a firewall reload or a reboot removes them); see "sandman network status"',
    };
  } catch (error) {
    return {
      name: 'network policy',
      status: 'fail',
      detail: (error as Error).message,
      hint: 'sandman needs root and iptables',
    };
  }
}

/**
 * Uids (docs/admin/users-and-limits.md "Uids and host accounts"): a host account made after sandman gave a user its uid
 * (useradd, LDAP) could read and write that user's home; sandman refuses those users (exit 6).
 */
async function checkUidClashes({config, store, hostAccounts}: DoctorDeps): Promise<Check> {
  const name = 'host accounts';
  const range = `uidRange ${config.uidRange.first}-${config.uidRange.last}`;
  try {
    const users = Object.entries((await store.read().catch(() => ({users: {}}))).users);
    const held = await hostAccountsHolding(
      hostAccounts,
      users.map(([, user]) => user.uid),
    );
    const clashes = users.flatMap(([user, {uid}]) => {
      const accounts = held.filter((account) => account.id === uid);
      return accounts.length ? [{user, uid, accounts}] : [];
    });
    if (clashes.length === 0)
      return ok(name, `${users.length} sandman uid(s), none a host account's uid or gid (${range})`);
    return {
      name,
      status: 'fail',
      detail: clashes
        .map(
          ({user, uid, accounts}) => `${user}'s uid ${uid} is ${accounts.map(describeAccount).join(' and ')}`,
        )
        .join('; '),
      hint: `${clashFix(clashes.flatMap(({accounts}) => accounts))}: that account can read and write the home, and sandman refuses the user (exit 6) until then`,
    };
  } catch (error) {
    return {
      name,
      status: 'fail',
      detail: (error as Error).message,
      hint: 'sandman asks getent; run it by hand',
    };
  }
}

/**
 * Disk quotas (docs/admin/disk-quotas.md): which mechanism enforces them under workspaceRoot and why;
 * a quota set (workspaceQuota, a group's or a user's) that nothing can enforce fails, with the fix.
 */
async function checkQuotas({config, store, homeQuotas}: DoctorDeps): Promise<Check> {
  const {choice, quotas} = await homeQuotas!();
  const state = await store.read().catch(() => undefined);
  const set =
    config.workspaceQuota !== undefined ||
    Object.values(config.groups).some((group) => group.quota !== undefined) ||
    Object.values(state?.users ?? {}).some((user) => user.limits?.quota !== undefined);
  if (quotas) return ok('disk quotas', `${choice.why}${set ? '' : '; no quota set (workspaceQuota)'}`);
  if (!set) return ok('disk quotas', `none set; none could be enforced here: ${choice.why}`);
  return {
    name: 'disk quotas',
    status: 'fail',
    detail: `a quota is set, but ${choice.why}`,
    hint: choice.fix ?? '',
  };
}

/**
 * The container's own layer (`containerDiskLimit`): Docker limits it only with overlay2 on XFS
 * mounted with pquota, and says so at create; doctor says beforehand why it would not be.
 */
async function checkContainerDisk({config, docker}: DoctorDeps): Promise<Check> {
  const storage = await docker.storage().catch(() => undefined);
  const engine = storage
    ? `${storage.driver} on ${storage.backingFilesystem ?? 'an unknown filesystem'}`
    : 'unknown';
  const possible = storage?.driver === 'overlay2' && storage.backingFilesystem === 'xfs';
  if (config.containerDiskLimit === undefined)
    return ok(
      'container disk',
      `containerDiskLimit not set: a session's own layer (/tmp, /opt) is not limited (engine: ${engine})`,
    );
  if (possible)
    return ok('container disk', `containerDiskLimit enforced by ${engine} (it needs pquota on that XFS)`);
  return {
    name: 'container disk',
    status: 'fail',
    detail: `containerDiskLimit is set, but the engine stores layers with ${engine}: it cannot limit a container's layer`,
    hint: "put Docker's data-root on XFS mounted with pquota (overlay2), or unset containerDiskLimit",
  };
}
