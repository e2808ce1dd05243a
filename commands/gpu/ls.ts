import type {GpuView} from '../../src/gpu/gpu-service.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {loadChalk, renderTable} from '../../cli/output.js';
import {gpuService} from '../../cli/services.js';

const value = (number: number | null, unit = '') => (number === null ? '-' : `${number}${unit}`);

export default class GpuLs extends SandmanCommand {
  static override summary = 'List GPUs, their MIG devices and which session holds each';
  static override hiddenAliases = ['gpu:list'];
  static override examples = [
    '<%= config.bin %> gpu ls',
    '<%= config.bin %> gpu ls --json | jq ".[].mig_devices[] | select(.session_id == null)"',
  ];

  async run(): Promise<GpuView[]> {
    const {flags} = await this.parse(GpuLs);
    const gpus = await (await gpuService(this.loadSettings(flags))).list();
    const chalk = await loadChalk(this.colour);
    const rows = gpus.map((gpu) => [
      gpu.index,
      gpu.name,
      `${value(gpu.memory_used_mib)}/${value(gpu.memory_total_mib)} MiB`,
      value(gpu.utilization_percent, '%'),
      value(gpu.temperature_c, 'C'),
      `${value(gpu.power_draw_w)}/${value(gpu.power_limit_w)} W`,
      gpu.mig_mode ?? 'n/a',
      gpu.mig_mode === 'Enabled' ? `${gpu.mig_devices.length} MIG` : (gpu.session_user ?? '-'),
      gpu.uuid,
    ]);
    this.log(
      await renderTable(
        ['GPU', 'NAME', 'MEMORY', 'UTIL', 'TEMP', 'POWER', 'MIG', 'HELD BY', 'UUID'],
        rows,
        chalk,
      ),
    );
    const devices = gpus.flatMap((gpu) => gpu.mig_devices.map((device) => ({gpu, device})));
    if (devices.length > 0) {
      this.log('');
      this.log(
        await renderTable(
          ['GPU', 'DEVICE', 'PROFILE', 'MEMORY', 'SESSION', 'USER', 'UUID'],
          devices.map(({gpu, device}) => [
            gpu.index,
            device.device_index,
            device.profile,
            value(device.memory_gib, ' GiB'),
            device.session_id ?? '-',
            device.session_user ?? '-',
            device.uuid,
          ]),
          chalk,
        ),
      );
    }
    return gpus;
  }
}
