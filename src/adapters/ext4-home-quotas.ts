import type {HomeDisk, HomeQuotas} from '../quota/home-quotas.js';
import {parseRepquotaProject} from '../quota/repquota-report.js';
import {hasProject, kibibytes, makeHome, projectIdOf} from './project-quota-home.js';
import {quotaCommand, type QuotaCommand} from './quota-commands.js';

/**
 * ext4: a project quota per home on a filesystem with the `project` and `quota` features mounted
 * with `prjquota` (README "Disk quotas"). Directories get the project (the uid) and the inherit
 * flag `+P`, files the project only: ext4 refuses `+P` on a file ("Operation not supported", as
 * captured), and a special file takes neither. A write past the limit is "Disk quota exceeded".
 */
export class Ext4HomeQuotas implements HomeQuotas {
  readonly mechanism = 'ext4' as const;

  constructor(
    private readonly mountPoint: string,
    private readonly run: QuotaCommand = quotaCommand,
  ) {}

  async apply(home: string, uid: number, limit: number): Promise<void> {
    await makeHome(home, uid);
    if (!(await hasProject(this.run, home, uid))) {
      const id = String(uid);
      const what = 'giving the home its project';
      await this.run(
        'find',
        [home, '-xdev', '-type', 'd', '-exec', 'chattr', '+P', '-p', id, '{}', '+'],
        what,
      );
      await this.run('find', [home, '-xdev', '-type', 'f', '-exec', 'chattr', '-p', id, '{}', '+'], what);
    }
    await this.#setquota(uid, kibibytes(limit));
  }

  async lift(home: string): Promise<void> {
    const id = await projectIdOf(home);
    if (id !== undefined) await this.#setquota(id, 0);
  }

  async ready(): Promise<void> {}

  async detach(home: string): Promise<void> {
    await this.lift(home);
  }

  async usage(home: string): Promise<HomeDisk | undefined> {
    const id = await projectIdOf(home);
    if (id === undefined) return undefined;
    const text = await this.run('repquota', ['-P', '-n', this.mountPoint], 'ext4 project quota');
    const report = parseRepquotaProject(text, id);
    return report && {...report, mechanism: 'ext4'};
  }

  /** Block hard limit in KiB (0: none); no soft or inode limits. */
  #setquota(id: number, hardKib: number): Promise<string> {
    return this.run(
      'setquota',
      ['-P', String(id), '0', String(hardKib), '0', '0', this.mountPoint],
      'ext4 project quota',
    );
  }
}
