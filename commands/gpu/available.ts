import type {AvailableView} from '../../src/gpu/gpu-service.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {loadChalk, renderTable} from '../../cli/output.js';
import {gpuService} from '../../cli/services.js';

export default class GpuAvailable extends SandmanCommand {
  static override summary = 'MIG devices and whole GPUs that no session holds';
  static override description = 'In dynamic MIG mode, also what sandman could still create on demand.';
  static override examples = [
    '<%= config.bin %> gpu available',
    '<%= config.bin %> gpu available --json | jq -r ".devices[].uuid"',
  ];

  async run(): Promise<AvailableView> {
    const {flags} = await this.parse(GpuAvailable);
    const available = await (await gpuService(this.loadSettings(flags))).available();
    const chalk = await loadChalk(this.colour);
    if (available.devices.length === 0) this.log('Nothing is free.');
    else {
      this.log(
        await renderTable(
          ['GPU', 'KIND', 'PROFILE', 'MEMORY', 'UUID'],
          available.devices.map((device) => [
            device.gpu_index,
            device.kind === 'mig' ? 'MIG' : 'GPU',
            device.profile ?? '-',
            device.memory_gib === null ? '-' : `${device.memory_gib} GiB`,
            device.uuid,
          ]),
          chalk,
        ),
      );
    }
    if (available.creatable.length > 0) {
      this.log('\nCould still be created (dynamic mode):');
      this.log(
        await renderTable(
          ['GPU', 'PROFILE', 'COUNT', 'MEMORY'],
          available.creatable.map((item) => [
            item.gpu_index,
            item.profile,
            item.count,
            `${item.memory_gib} GiB`,
          ]),
          chalk,
        ),
      );
    }
    return available;
  }
}
