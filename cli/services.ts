/**
 * Wires the real implementations of each outside system into the core. Every factory imports what
 * it needs on demand, so a command loads only its own part of sandman (start-up matters: `reap`
 * runs every minute and `session ls` inside scripts).
 */
import {systemClock} from '../src/clock.js';
import type {Config} from '../src/config.js';
import type {GpuService} from '../src/gpu/gpu-service.js';
import type {Reaper} from '../src/reap/reaper.js';
import type {SessionQueries} from '../src/session/session-queries.js';
import type {SessionService} from '../src/session/session-service.js';
import type {StateStore} from '../src/state/state-store.js';

export async function stateStore(config: Config): Promise<StateStore> {
  const {LowdbStateStore} = await import('../src/state/lowdb-state-store.js');
  return new LowdbStateStore(config.stateFile, {lockTimeout: config.lockTimeout});
}

export async function sessionQueries(config: Config): Promise<SessionQueries> {
  const {SessionQueries} = await import('../src/session/session-queries.js');
  return new SessionQueries(await stateStore(config), systemClock);
}

/** Rewrites the metrics file after a change, when `metricsFile` is set (SPEC.md section 9). */
function metricsWriter(config: Config, store: StateStore): (() => Promise<void>) | undefined {
  const file = config.metricsFile;
  if (!file) return undefined;
  return async () => {
    const [{ExecaNvidiaSmi}, {readInventory}, {renderMetrics, writeMetricsFile}] = await Promise.all([
      import('../src/gpu/execa-nvidia-smi.js'),
      import('../src/gpu/inventory.js'),
      import('../src/metrics.js'),
    ]);
    const smi = new ExecaNvidiaSmi(config.nvidiaSmi);
    const inventory = (await smi.available())
      ? await readInventory(smi, {profiles: false}).catch(() => undefined)
      : undefined;
    await writeMetricsFile(file, await renderMetrics(await store.read(), inventory));
  };
}

async function auditLog(config: Config) {
  const {AuditLog} = await import('../src/audit-log.js');
  return new AuditLog(config.auditLog, systemClock);
}

export async function sessionService(
  config: Config,
  progress?: (step: string) => void,
): Promise<SessionService> {
  const [
    {SessionService},
    {DockerodeContainerClient},
    {NvidiaSmiGpuAllocator},
    {KeyStore},
    {tcpPortProbe},
    {fqdn},
  ] = await Promise.all([
    import('../src/session/session-service.js'),
    import('../src/docker/dockerode-container-client.js'),
    import('../src/gpu/nvidia-smi-gpu-allocator.js'),
    import('../src/key-store.js'),
    import('../src/ports.js'),
    import('../src/host-name.js'),
  ]);
  const store = await stateStore(config);
  return new SessionService({
    config,
    store,
    docker: new DockerodeContainerClient(),
    gpus: new NvidiaSmiGpuAllocator(config),
    keys: new KeyStore(config.stateFile),
    clock: systemClock,
    portProbe: tcpPortProbe(config.bindAddress),
    sshHost: fqdn,
    progress,
    audit: await auditLog(config),
    afterChange: metricsWriter(config, store),
  });
}

export async function reaper(config: Config, progress?: (text: string) => void): Promise<Reaper> {
  const [{Reaper}, {DockerodeContainerClient}, {instanceId}] = await Promise.all([
    import('../src/reap/reaper.js'),
    import('../src/docker/dockerode-container-client.js'),
    import('../src/labels.js'),
  ]);
  const store = await stateStore(config);
  let sessions: Promise<SessionService> | undefined;
  return new Reaper({
    config,
    store,
    docker: new DockerodeContainerClient(),
    // The session service (key handling, GPU allocator, ...) loads only when there is work.
    sessions: () => (sessions ??= sessionService(config)),
    clock: systemClock,
    instance: instanceId(config.stateFile),
    audit: await auditLog(config),
    afterChange: metricsWriter(config, store),
    progress,
  });
}

export async function gpuService(config: Config): Promise<GpuService> {
  const [{GpuService}, {ExecaNvidiaSmi}] = await Promise.all([
    import('../src/gpu/gpu-service.js'),
    import('../src/gpu/execa-nvidia-smi.js'),
  ]);
  return new GpuService(new ExecaNvidiaSmi(config.nvidiaSmi), await stateStore(config), config);
}
