import type {HomeDisk, HomeQuotas} from '../quota/home-quotas.js';
import {parseXfsProjectReport} from '../quota/xfs-quota-report.js';
import {hasProject, kibibytes, makeHome, projectIdOf} from './project-quota-home.js';
import {quotaCommand, type QuotaCommand} from './quota-commands.js';

/**
 * xfs: an XFS project quota per home on a filesystem mounted with `prjquota` (README "Disk
 * quotas"). `project -s` gives the home's tree the project (the uid) and marks directories so
 * what is made later inherits it; an existing plain home keeps its files in place. XFS refuses a
 * write past the limit with "No space left on device" (as captured on a live XFS).
 */
export class XfsHomeQuotas implements HomeQuotas {
  readonly mechanism = 'xfs' as const;

  constructor(
    private readonly mountPoint: string,
    private readonly run: QuotaCommand = quotaCommand,
  ) {}

  async apply(home: string, uid: number, limit: number): Promise<void> {
    await makeHome(home, uid);
    if (!(await hasProject(this.run, home, uid))) await this.#xfs(`project -s -p ${home} ${uid}`);
    await this.#xfs(`limit -p bhard=${kibibytes(limit)}k ${uid}`);
  }

  async lift(home: string): Promise<void> {
    const id = await projectIdOf(home);
    if (id !== undefined) await this.#xfs(`limit -p bhard=0 ${id}`);
  }

  async ready(): Promise<void> {}

  // The home is about to be deleted: its project keeps no limit behind it.
  async detach(home: string): Promise<void> {
    await this.lift(home);
  }

  async usage(home: string): Promise<HomeDisk | undefined> {
    const id = await projectIdOf(home);
    if (id === undefined) return undefined;
    const report = parseXfsProjectReport(await this.#xfs('report -p -n -b'), id);
    return report && {...report, mechanism: 'xfs'};
  }

  #xfs(command: string): Promise<string> {
    return this.run('xfs_quota', ['-x', '-c', command, this.mountPoint], 'xfs project quota');
  }
}
