import {AuditLog} from '../src/audit-log.js';
import {systemClock} from '../src/clock.js';
import type {Config} from '../src/config.js';
import {DockerodeContainerClient} from '../src/docker/dockerode-container-client.js';
import {ExecaNvidiaSmi} from '../src/gpu/execa-nvidia-smi.js';
import {GpuService} from '../src/gpu/gpu-service.js';
import {readInventory} from '../src/gpu/inventory.js';
import {NvidiaSmiGpuAllocator} from '../src/gpu/nvidia-smi-gpu-allocator.js';
import {fqdn} from '../src/host-name.js';
import {KeyStore} from '../src/key-store.js';
import {instanceId} from '../src/labels.js';
import {renderMetrics, writeMetricsFile} from '../src/metrics.js';
import {tcpPortProbe} from '../src/ports.js';
import {Reaper} from '../src/reap/reaper.js';
import {SessionService} from '../src/session/session-service.js';
import {LowdbStateStore} from '../src/state/lowdb-state-store.js';
import type {StateStore} from '../src/state/state-store.js';

export function stateStore(config: Config): StateStore {
  return new LowdbStateStore(config.stateFile, {lockTimeout: config.lockTimeout});
}

/** Rewrites the metrics file after a change, when `metricsFile` is set (SPEC.md section 9). */
function metricsWriter(config: Config, store: StateStore): (() => Promise<void>) | undefined {
  const file = config.metricsFile;
  if (!file) return undefined;
  return async () => {
    const smi = new ExecaNvidiaSmi(config.nvidiaSmi);
    const inventory = (await smi.available())
      ? await readInventory(smi, {profiles: false}).catch(() => undefined)
      : undefined;
    await writeMetricsFile(file, await renderMetrics(await store.read(), inventory));
  };
}

/** Wires the real implementations of each outside system into the session service. */
export function sessionService(config: Config, progress?: (step: string) => void): SessionService {
  const store = stateStore(config);
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
    audit: new AuditLog(config.auditLog, systemClock),
    afterChange: metricsWriter(config, store),
  });
}

export function reaper(config: Config, progress?: (text: string) => void): Reaper {
  const store = stateStore(config);
  return new Reaper({
    config,
    store,
    docker: new DockerodeContainerClient(),
    sessions: sessionService(config),
    clock: systemClock,
    instance: instanceId(config.stateFile),
    audit: new AuditLog(config.auditLog, systemClock),
    afterChange: metricsWriter(config, store),
    progress,
  });
}

export function gpuService(config: Config): GpuService {
  return new GpuService(new ExecaNvidiaSmi(config.nvidiaSmi), stateStore(config), config);
}
