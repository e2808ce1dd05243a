import {systemClock} from '../src/clock.js';
import type {Config} from '../src/config.js';
import {DockerodeContainerClient} from '../src/docker/dockerode-container-client.js';
import {ExecaNvidiaSmi} from '../src/gpu/execa-nvidia-smi.js';
import {GpuService} from '../src/gpu/gpu-service.js';
import {NvidiaSmiGpuAllocator} from '../src/gpu/nvidia-smi-gpu-allocator.js';
import {fqdn} from '../src/host-name.js';
import {KeyStore} from '../src/key-store.js';
import {tcpPortProbe} from '../src/ports.js';
import {SessionService} from '../src/session/session-service.js';
import {LowdbStateStore} from '../src/state/lowdb-state-store.js';

/** Wires the real implementations of each outside system into the session service. */
export function sessionService(config: Config, progress?: (step: string) => void): SessionService {
  return new SessionService({
    config,
    store: new LowdbStateStore(config.stateFile, {lockTimeout: config.lockTimeout}),
    docker: new DockerodeContainerClient(),
    gpus: new NvidiaSmiGpuAllocator(config),
    keys: new KeyStore(config.stateFile),
    clock: systemClock,
    portProbe: tcpPortProbe(config.bindAddress),
    sshHost: fqdn,
    progress,
  });
}

export function gpuService(config: Config): GpuService {
  return new GpuService(
    new ExecaNvidiaSmi(config.nvidiaSmi),
    new LowdbStateStore(config.stateFile, {lockTimeout: config.lockTimeout}),
    config,
  );
}
