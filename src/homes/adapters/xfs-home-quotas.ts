import {parseXfsProjectReport} from '../xfs-quota-report.js';
import {ProjectHomeQuotas, type ProjectQuotaTool} from './project-home-quotas.js';
import type {QuotaCommand} from './quota-commands.js';

const xfs = (run: QuotaCommand, mountPoint: string, command: string) =>
  run('xfs_quota', ['-x', '-c', command, mountPoint], 'xfs project quota');

/**
 * xfs: an XFS project quota per home on a filesystem mounted with `prjquota` (docs/admin/disk-quotas.md). `project -s` gives the home's tree the project (the uid) and marks directories so
 * what is made later inherits it; an existing plain home keeps its files in place. XFS refuses a
 * write past the limit with "No space left on device" (as captured on a live XFS).
 */
const XFS_TOOL: ProjectQuotaTool = {
  mechanism: 'xfs',
  async giveProject(run, mountPoint, home, id) {
    await xfs(run, mountPoint, `project -s -p ${home} ${id}`);
  },
  async setLimit(run, mountPoint, id, kib) {
    await xfs(run, mountPoint, `limit -p bhard=${kib === 0 ? '0' : `${kib}k`} ${id}`);
  },
  async usage(run, mountPoint, id) {
    return parseXfsProjectReport(await xfs(run, mountPoint, 'report -p -n -b'), id);
  },
};

export class XfsHomeQuotas extends ProjectHomeQuotas {
  constructor(mountPoint: string, run?: QuotaCommand) {
    super(XFS_TOOL, mountPoint, run);
  }
}
