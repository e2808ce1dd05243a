import {loadConfig, type Config} from '../../src/config/config.js';
import type {GpuAllocator} from '../../src/gpu/gpu-allocator.js';
import {GpuService} from '../../src/gpu/gpu-service.js';
import {NetworkBoundary} from '../../src/network/network-boundary.js';
import {NvidiaSmiGpuAllocator} from '../../src/gpu/nvidia-smi-gpu-allocator.js';
import {Reaper} from '../../src/reap/reaper.js';
import {SessionService} from '../../src/session/session-service.js';
import {UserService} from '../../src/users/user-service.js';
import {stateDirOf} from '../../src/state/state-dir.js';
import type {AuditEntry} from '../../src/audit/audit-log.js';
import {FakeContainerClient} from './fake-container-client.js';
import {
  FakeClock,
  FakeFirewall,
  FakeGatewayKeys,
  FakeHostIdentity,
  FakeKeyStore,
  FakeLocks,
  FakeProcesses,
  FakeSignals,
  FakeActivity,
  FakeSshConnections,
  FakeSshProbe,
  FakeWorkspaces,
} from './fake-host.js';
import {FakeHostAccounts} from './fake-host-accounts.js';
import {FakeNvidiaSmi} from './fake-nvidia-smi.js';
import type {FakeCluster} from './fake-cluster.js';
import {DockerRuntime} from '../../src/runtime/docker/docker-runtime.js';
import {SwarmRuntime} from '../../src/runtime/swarm/swarm-runtime.js';
import type {SessionRuntime} from '../../src/runtime/session-runtime.js';
import {SwarmGpuAllocator} from '../../src/swarm/swarm-gpu-allocator.js';
import {InMemoryStateStore} from './in-memory-state-store.js';
import type {DcgmExporter} from '../../src/gpu/dcgm-exporter.js';
import {Notifier} from '../../src/notify/notifier.js';
import {notifyStartedWith} from '../../src/notify/started-notices.js';
import {reapNotices} from '../../src/notify/reap-notices.js';
import {FakeMailSender, FakeWebhookPoster} from './fake-notify.js';

/**
 * One sandman host in memory: every outside system faked, the use cases real. Built as the
 * wiring module builds the real one (cli/services.ts), so these tests exercise the same workflows.
 */
export function fakeWorld(
  options: {
    smi?: FakeNvidiaSmi;
    settings?: Record<string, unknown>;
    /** Create stops for good at this step, as SANDMAN_FAULT_POINT makes the real CLI do. */
    stopAt?: 'reserved' | 'container-created' | 'before-commit';
    /** Swarm mode (docs/admin/swarm.md): sessions are services on this cluster. */
    cluster?: FakeCluster;
    /** dcgm-exporter's page (docs/admin/notifications-and-idleness.md "GPU idleness"), as the test sets it. */
    dcgm?: DcgmExporter;
  } = {},
) {
  const {cluster} = options;
  const config: Config = loadConfig({
    env: {},
    readFile: () =>
      JSON.stringify({
        stateFile: '/fake/state.json',
        ...(cluster ? {backend: 'swarm'} : {}),
        ...options.settings,
      }),
  });
  const stateDir = stateDirOf(config.stateFile);
  const store = new InMemoryStateStore();
  const docker = new FakeContainerClient();
  const smi = options.smi ?? FakeNvidiaSmi.absent();
  const locks = new FakeLocks();
  const keys = new FakeKeyStore();
  const hostIdentity = new FakeHostIdentity();
  const firewall = new FakeFirewall();
  const networkBoundary = new NetworkBoundary(config, docker, firewall, stateDir.instance, locks, {
    sessionsOnOtherNodes: !!cluster,
  });
  const workspaces = new FakeWorkspaces();
  const hostAccounts = new FakeHostAccounts();
  const signals = new FakeSignals();
  const sshProbe = new FakeSshProbe();
  const clock = new FakeClock();
  const processes = new FakeProcesses();
  const sshConnections = new FakeSshConnections();
  const activity = new FakeActivity();
  const audit: AuditEntry[] = [];
  const warnings: string[] = [];
  // As the wiring picks them (cli/services.ts): on a cluster, Swarm's scheduler hands out devices.
  const gpus: GpuAllocator = cluster
    ? new SwarmGpuAllocator()
    : new NvidiaSmiGpuAllocator(config, smi, locks);
  const sshHost = async () => 'gpu01.example.org';
  const runtime: SessionRuntime = cluster
    ? new SwarmRuntime({config, docker, cluster, instance: stateDir.instance, store: async () => store})
    : new DockerRuntime({config, docker, gpus, keys, workspaces, networkBoundary, sshHost});
  if (cluster) {
    docker.onStart = (container) => void cluster.schedule(container.spec);
    docker.onStop = (container) => cluster.unschedule(container.spec);
  }
  const busyPorts = new Set<number>();
  /** GPU-hours each user has used in any window, as the usage accounting would report them. */
  const gpuHoursUsed = new Map<string, {used: number; oldestLeavesAt: number | null}>();
  const gpuHours = async (user: string) => gpuHoursUsed.get(user) ?? {used: 0, oldestLeavesAt: null};
  // Notices (docs/admin/notifications-and-idleness.md "Notifications"), as the wiring makes them.
  const mail = new FakeMailSender();
  const webhooks = new FakeWebhookPoster();
  const notifier = new Notifier({
    config,
    store,
    clock,
    mail: async () => mail,
    webhooks,
    ...(cluster ? {} : {terminals: docker}),
    from: async () => 'sandman@gpu01.example.org',
  });
  /** GPU-hours used per user with a budget, as the reaper's budget notices read them. */
  const budgetsUsed = new Map<string, {used: number; budget: number}>();
  /** Job logs kept in homes (docs/admin/jobs.md), by workspace and job ID, with the uid that wrote them. */
  const jobLogs = new Map<string, {uid: number; output: Buffer}>();
  const sessions = new SessionService({
    config,
    stateDir,
    store,
    docker,
    gpus,
    runtime,
    keys,
    hostIdentity,
    gatewayKeys: new FakeGatewayKeys(),
    networkBoundary,
    workspaces,
    hostAccounts,
    locks,
    clock,
    portProbe: async (port) => !busyPorts.has(port),
    sshProbe,
    signals,
    processes,
    sshHost,
    warn: (message) => warnings.push(message),
    audit: {record: async (entry) => void audit.push(entry)},
    gpuHours,
    faultPoint: async (name) => {
      if (name === options.stopAt) await new Promise(() => undefined);
    },
    notifyStarted: notifyStartedWith(async () => notifier, config, clock),
    deliverNotices: () => notifier.deliver(),
    jobLogs: {
      keep: async (home, id, output) => void jobLogs.set(`${home.workspace}/${id}`, {uid: home.uid, output}),
      read: async (home, id) => jobLogs.get(`${home.workspace}/${id}`)?.output,
    },
  });
  const reaper = new Reaper({
    config,
    store,
    docker,
    ...(cluster ? {} : {inContainer: docker}),
    sessions: async () => sessions,
    clock,
    locks,
    processes,
    sshConnections,
    activity,
    gpuProcesses: () => smi.computeApps(),
    smi: async () => smi,
    ...(options.dcgm ? {dcgm: options.dcgm} : {}),
    warn: (message) => warnings.push(message),
    instance: stateDir.instance,
    networkBoundary,
    audit: {record: async (entry) => void audit.push(entry)},
    notices: reapNotices({
      config,
      notifier,
      store,
      budgets: async () => [...budgetsUsed].map(([user, use]) => ({user, ...use})),
    }),
  });
  return {
    mail,
    webhooks,
    notifier,
    budgetsUsed,
    config,
    stateDir,
    store,
    docker,
    cluster,
    runtime,
    smi,
    locks,
    keys,
    hostIdentity,
    firewall,
    networkBoundary,
    workspaces,
    hostAccounts,
    signals,
    sshProbe,
    clock,
    processes,
    sshConnections,
    activity,
    busyPorts,
    audit,
    warnings,
    sessions,
    reaper,
    gpuHoursUsed,
    jobLogs,
    users: new UserService({
      config,
      store,
      clock,
      workspaces,
      hostAccounts,
      audit: {record: async (entry) => void audit.push(entry)},
      gpuHours,
    }),
    gpuService: new GpuService(smi, store, config),
  };
}

export type World = ReturnType<typeof fakeWorld>;
