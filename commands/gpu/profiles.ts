import type {ProfileView} from '../../src/gpu/gpu-service.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {loadChalk, renderTable} from '../../cli/output.js';
import {gpuService} from '../../cli/services.js';

export default class GpuProfiles extends SandmanCommand {
  static override summary = 'MIG profiles the GPUs support, with memory, slices and free/total counts';
  static override description =
    'DEVICES counts the MIG devices that exist (pool mode hands these out); INSTANCES is what nvidia-smi could still create (dynamic mode).';
  static override examples = ['<%= config.bin %> gpu profiles', '<%= config.bin %> gpu profiles --json'];

  async run(): Promise<ProfileView[]> {
    const {flags} = await this.parse(GpuProfiles);
    const profiles = await (await gpuService(this.loadSettings(flags))).profiles();
    if (profiles.length === 0) {
      this.log('No GPU is in MIG mode: there are no MIG profiles (whole GPUs are handed out with --gpu).');
      return profiles;
    }
    const rows = profiles.map((profile) => [
      profile.gpu_index,
      profile.profile,
      profile.profile_id,
      `${profile.memory_gib} GiB`,
      profile.slices,
      `${profile.devices_free}/${profile.devices_total}`,
      `${profile.instances_free}/${profile.instances_total}`,
    ]);
    this.log(
      await renderTable(
        ['GPU', 'PROFILE', 'ID', 'MEMORY', 'SLICES', 'DEVICES FREE/TOTAL', 'INSTANCES FREE/TOTAL'],
        rows,
        await loadChalk(this.colour),
      ),
    );
    return profiles;
  }
}
