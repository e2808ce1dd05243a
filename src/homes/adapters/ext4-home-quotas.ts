import {parseRepquotaProject} from '../repquota-report.js';
import {ProjectHomeQuotas, type ProjectQuotaTool} from './project-home-quotas.js';
import type {QuotaCommand} from './quota-commands.js';

/**
 * ext4: a project quota per home on a filesystem with the `project` and `quota` features mounted
 * with `prjquota` (docs/admin/disk-quotas.md). Directories get the project (the uid) and the inherit
 * flag `+P`, files the project only: ext4 refuses `+P` on a file ("Operation not supported", as
 * captured), and a special file takes neither. A write past the limit is "Disk quota exceeded".
 */
const EXT4_TOOL: ProjectQuotaTool = {
  mechanism: 'ext4',
  async giveProject(run, _mountPoint, home, id) {
    const what = 'giving the home its project';
    const project = String(id);
    await run('find', [home, '-xdev', '-type', 'd', '-exec', 'chattr', '+P', '-p', project, '{}', '+'], what);
    await run('find', [home, '-xdev', '-type', 'f', '-exec', 'chattr', '-p', project, '{}', '+'], what);
  },
  async setLimit(run, mountPoint, id, kib) {
    // Block hard limit in KiB (0: none); no soft or inode limits.
    await run('setquota', ['-P', String(id), '0', String(kib), '0', '0', mountPoint], 'ext4 project quota');
  },
  async usage(run, mountPoint, id) {
    return parseRepquotaProject(await run('repquota', ['-P', '-n', mountPoint], 'ext4 project quota'), id);
  },
};

export class Ext4HomeQuotas extends ProjectHomeQuotas {
  constructor(mountPoint: string, run?: QuotaCommand) {
    super(EXT4_TOOL, mountPoint, run);
  }
}
