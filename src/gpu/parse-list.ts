import type {GpuDevice, MigDevice} from './gpu-types.js';

// "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-b4895dbf-...)"
const GPU_LINE = /^GPU\s+(\d+):\s+(.+?)\s+\(UUID:\s+(GPU-[0-9a-fA-F-]+)\)\s*$/;
// "  MIG 1g.10gb     Device  0: (UUID: MIG-3f6f...)" and the old "  MIG 3g.20gb Device 0: (UUID: MIG-GPU-.../2/0)"
const MIG_LINE = /^\s+MIG\s+(\S+)\s+Device\s+(\d+):\s+\(UUID:\s+(MIG-[^)\s]+)\)\s*$/;
const OLD_MIG_UUID = /^MIG-GPU-[0-9a-fA-F-]+\/(\d+)\/(\d+)$/;

/** Parses `nvidia-smi -L`: GPUs and, under each, its MIG devices. CRLF and both UUID forms are fine. */
export function parseGpuList(text: string): GpuDevice[] {
  const gpus: GpuDevice[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    const gpu = GPU_LINE.exec(line);
    if (gpu) {
      gpus.push({index: Number(gpu[1]), name: gpu[2]!, uuid: gpu[3]!, migDevices: []});
      continue;
    }
    const mig = MIG_LINE.exec(line);
    const parent = gpus.at(-1);
    if (mig && parent) {
      const uuid = mig[3]!;
      const old = OLD_MIG_UUID.exec(uuid);
      const device: MigDevice = {
        uuid,
        profile: mig[1]!,
        gpuIndex: parent.index,
        deviceIndex: Number(mig[2]),
        gpuInstanceId: old ? Number(old[1]) : null,
        computeInstanceId: old ? Number(old[2]) : null,
      };
      parent.migDevices.push(device);
    }
  }
  return gpus;
}
