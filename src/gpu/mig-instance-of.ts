import type {GpuDevice, GpuInstance} from './gpu-types.js';

/**
 * The GPU instance (GI ID) a MIG device is on, to find its series in dcgm-exporter's page
 * (docs/admin/notifications-and-idleness.md "GPU idleness"). Current drivers' `-L` names no GI: the old UUID form does; otherwise
 * the `-lgi` instances of the device's profile on its GPU, in GI order, are matched to the devices
 * of that profile in `-L` order (the order `-L` lists them in). A GPU instance split into several
 * compute instances (`1c.2g.10gb`) is counted once. Undefined when it cannot be told.
 */
export function migInstanceOf(
  uuid: string,
  list: readonly GpuDevice[],
  instances: readonly GpuInstance[],
): {gpuIndex: number; gpuInstanceId: number} | undefined {
  for (const gpu of list) {
    const device = gpu.migDevices.find((candidate) => candidate.uuid === uuid);
    if (!device) continue;
    if (device.gpuInstanceId !== null) return {gpuIndex: gpu.index, gpuInstanceId: device.gpuInstanceId};
    const profile = device.profile.replace(/^\d+c\./, '');
    const ids = instances
      .filter((instance) => instance.gpuIndex === gpu.index && instance.profile === profile)
      .map((instance) => instance.instanceId)
      .sort((a, b) => a - b);
    if (device.profile !== profile) {
      // A compute instance: told apart only when one GI of that profile is on the GPU.
      return ids.length === 1 ? {gpuIndex: gpu.index, gpuInstanceId: ids[0]!} : undefined;
    }
    const same = gpu.migDevices.filter((candidate) => candidate.profile === profile);
    if (same.length !== ids.length) return undefined;
    return {gpuIndex: gpu.index, gpuInstanceId: ids[same.indexOf(device)]!};
  }
  return undefined;
}
