import {mkdir, readdir, readFile, rm, stat, statfs} from 'node:fs/promises';
import path from 'node:path';

import type {HomeDisk, HomeQuotas} from '../quota/home-quotas.js';
import {mountOf, parseMountinfo} from '../quota/mountinfo.js';
import {quotaCommand} from './quota-commands.js';

/**
 * loop: each home is an ext4 image file of the quota's size (sparse: it takes only what is
 * written), mounted on the home before the container starts and again after a reboot (README
 * "Disk quotas"). A larger quota grows the image and the filesystem while mounted (resize2fs).
 */
export class LoopHomeQuotas implements HomeQuotas {
  readonly mechanism = 'loop' as const;

  /** `imageDir`: where the images live (`<workspaceRoot>/.sandman-homes`). */
  constructor(private readonly imageDir: string) {}

  imageOf(home: string): string {
    return path.join(this.imageDir, `${path.basename(home)}.ext4`);
  }

  async apply(home: string, uid: number, limit: number): Promise<void> {
    const image = this.imageOf(home);
    const current = await stat(image).catch(() => undefined);
    if (!current) {
      await mkdir(this.imageDir, {recursive: true, mode: 0o700});
      await quotaCommand('truncate', ['-s', String(limit), image], 'making the home image');
      await quotaCommand(
        'mkfs.ext4',
        ['-q', '-F', '-m', '0', '-E', `root_owner=${uid}:${uid}`, image],
        'making the home image',
      );
      await this.#moveIn(home, image);
    } else if (current.size < limit) {
      await this.ready(home);
      await quotaCommand('truncate', ['-s', String(limit), image], 'growing the home image');
      const device = (await quotaCommand('losetup', ['-j', image], 'growing the home image')).split(':')[0]!;
      await quotaCommand('losetup', ['-c', device], 'growing the home image');
      await quotaCommand('resize2fs', [device], 'growing the home filesystem');
      return;
    }
    await this.ready(home);
  }

  // The home IS the image: with no quota it keeps the image's size (README "Disk quotas" says
  // so); moving the files back out would need the session stopped.
  async lift(): Promise<void> {}

  async ready(home: string): Promise<void> {
    if (await this.#mounted(home)) return;
    const image = this.imageOf(home);
    if (!(await stat(image).catch(() => undefined))) return;
    await mkdir(home, {recursive: true, mode: 0o700});
    await quotaCommand('mount', ['-o', 'loop,nosuid,nodev', image, home], 'mounting the home image');
  }

  async detach(home: string): Promise<void> {
    if (await this.#mounted(home)) await quotaCommand('umount', [home], 'unmounting the home image');
    await rm(this.imageOf(home), {force: true});
  }

  async usage(home: string): Promise<HomeDisk | undefined> {
    if (!(await this.#mounted(home))) return undefined;
    const info = await statfs(home);
    return {
      used: (info.blocks - info.bfree) * info.bsize,
      limit: info.blocks * info.bsize,
      mechanism: 'loop',
    };
  }

  async #mounted(home: string): Promise<boolean> {
    const entries = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8'));
    return mountOf(entries, home)?.mountPoint === path.resolve(home);
  }

  /** The image mounted on the home; what a plain home held is copied in first, then removed below. */
  async #moveIn(home: string, image: string): Promise<void> {
    const existing = await readdir(home).catch(() => undefined);
    if (existing && existing.length > 0) {
      const staging = `${home}.sandman-image`;
      await mkdir(staging, {recursive: true, mode: 0o700});
      await quotaCommand('mount', ['-o', 'loop', image, staging], 'moving the home into its image');
      try {
        await quotaCommand('cp', ['-a', `${home}/.`, `${staging}/`], 'moving the home into its image');
      } finally {
        await quotaCommand('umount', [staging], 'moving the home into its image');
        await rm(staging, {recursive: true, force: true});
      }
      for (const entry of existing) await rm(path.join(home, entry), {recursive: true, force: true});
    }
    await mkdir(home, {recursive: true, mode: 0o700});
  }
}
