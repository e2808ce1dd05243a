import {readFileSync} from 'node:fs';
import path from 'node:path';

import {capacity} from '../../src/core/errors.js';
import type {GpuDevice, GpuInstance, GpuInstanceProfile, GpuStatus} from '../../src/gpu/gpu-types.js';
import type {NvidiaSmi} from '../../src/gpu/nvidia-smi.js';
import type {CreatedInstance} from '../../src/gpu/parse-mig-commands.js';
import {parseGpuList} from '../../src/gpu/parse-list.js';
import {parseGpuInstanceProfiles, parseGpuInstances} from '../../src/gpu/parse-mig-tables.js';
import {parseQueryGpu} from '../../src/gpu/parse-query-gpu.js';
import {ROOT} from '../helpers/constants.js';

const capture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/nvidia-smi', name), 'utf8');

/**
 * nvidia-smi in memory, answering with the real parsers' reading of real captures
 * (test/fixtures/nvidia-smi, SOURCES.md). MIG devices it is asked to create get made-up UUIDs;
 * `calls` lists the MIG changes in nvidia-smi's own words.
 */
export class FakeNvidiaSmi implements NvidiaSmi {
  readonly calls: string[] = [];
  #gpus: GpuDevice[];
  #next = 1;

  constructor(
    private readonly host: {list: string; queryRows: string; lgip?: string; lgi?: string},
    private readonly installed = true,
  ) {
    this.#gpus = parseGpuList(capture(host.list));
  }

  /** The A100-SXM4-40GB of a100-mig-r580.json: 4g.20gb, 2g.10gb (two 1c devices) and 1g.5gb. */
  static a100(): FakeNvidiaSmi {
    return new FakeNvidiaSmi({
      list: 'a100-40gb_list-L_mig-ci_r580.txt',
      queryRows:
        '0, GPU-9e4aeb94-01c0-5173-4811-4ca60f77b3a9, NVIDIA A100-SXM4-40GB, 40960, 249, [N/A], [N/A], 40, 43.00, 400.00, Enabled\n',
      lgip: 'a100-40gb_mig-lgip_r580.txt',
      lgi: 'a100-40gb_mig-lgi_r580.txt',
    });
  }

  /** Eight RTX PRO 6000 with MIG off: whole GPUs only. */
  static rtxPro6000x8(): FakeNvidiaSmi {
    const list = parseGpuList(capture('rtx-pro-6000-x8_list-L_no-mig.txt'));
    const rows = list
      .map((gpu) => `${gpu.index}, ${gpu.uuid}, ${gpu.name}, 97887, 0, 97250, 0, 30, 20.00, 600.00, Disabled`)
      .join('\n');
    return new FakeNvidiaSmi({list: 'rtx-pro-6000-x8_list-L_no-mig.txt', queryRows: rows + '\n'});
  }

  static absent(): FakeNvidiaSmi {
    return new FakeNvidiaSmi({list: 'rtx-pro-6000-x8_list-L_no-mig.txt', queryRows: ''}, false);
  }

  /**
   * A reboot as mig-parted leaves it: MIG devices made again with new UUIDs (those of `drop`
   * profiles not at all), devices sandman created in dynamic mode gone.
   */
  reboot(options: {drop?: string[]} = {}): void {
    for (const gpu of this.#gpus) {
      gpu.migDevices = gpu.migDevices
        .filter((device) => device.gpuInstanceId === null || device.gpuInstanceId < 100)
        .filter((device) => !(options.drop ?? []).includes(device.profile))
        .map((device) => ({
          ...device,
          uuid: `MIG-ffffffff-0000-0000-0000-${String(this.#next++).padStart(12, '0')}`,
        }));
    }
  }

  /** Whole GPUs' utilisation by UUID, as the test sets it (absent: `[N/A]`); `utilizationFails` makes it throw. */
  utilizationByUuid = new Map<string, number>();
  utilizationFails = false;
  async utilization(): Promise<GpuStatus[]> {
    if (this.utilizationFails) throw new Error('nvidia-smi --query-gpu failed');
    const rows = this.#gpus
      .map((gpu) => `${gpu.index}, ${gpu.uuid}, ${this.utilizationByUuid.get(gpu.uuid) ?? '[N/A]'}`)
      .join('\n');
    return parseQueryGpu(rows, ['index', 'uuid', 'utilization.gpu']);
  }

  /** Host PIDs of GPU compute processes, as the test sets them. */
  computePids: number[] = [];
  async computeApps(): Promise<number[]> {
    return [...this.computePids];
  }

  async available(): Promise<boolean> {
    return this.installed;
  }
  async list(): Promise<GpuDevice[]> {
    return structuredClone(this.#gpus);
  }
  async query(): Promise<GpuStatus[]> {
    return parseQueryGpu(this.host.queryRows);
  }
  async instanceProfiles(): Promise<GpuInstanceProfile[]> {
    return this.host.lgip ? parseGpuInstanceProfiles(capture(this.host.lgip)) : [];
  }
  async instances(): Promise<GpuInstance[]> {
    return this.host.lgi ? parseGpuInstances(capture(this.host.lgi)) : [];
  }
  async createInstance(gpuIndex: number, profile: string): Promise<CreatedInstance> {
    this.calls.push(`mig -i ${gpuIndex} -cgi ${profile} -C`);
    const gpu = this.#gpus.find((candidate) => candidate.index === gpuIndex);
    if (!gpu) throw capacity(`no GPU ${gpuIndex}`);
    const gpuInstanceId = 100 + this.#next;
    gpu.migDevices.push({
      uuid: `MIG-00000000-0000-0000-0000-${String(this.#next++).padStart(12, '0')}`,
      profile,
      gpuIndex,
      deviceIndex: gpu.migDevices.length,
      gpuInstanceId,
      computeInstanceId: 0,
    });
    return {gpuIndex, gpuInstanceId, profile, profileId: 0, computeInstanceId: 0};
  }
  async destroyInstance(
    gpuIndex: number,
    gpuInstanceId: number,
    computeInstanceId: number | null,
  ): Promise<void> {
    this.calls.push(`mig -i ${gpuIndex} -gi ${gpuInstanceId} -ci ${computeInstanceId} -dci`);
    const gpu = this.#gpus.find((candidate) => candidate.index === gpuIndex)!;
    gpu.migDevices = gpu.migDevices.filter((device) => device.gpuInstanceId !== gpuInstanceId);
  }
}
