import {mkdir, readdir, readFile, rm, stat, statfs, writeFile} from 'node:fs/promises';
import path from 'node:path';

import type {HomeDisk, HomeQuotas} from '../home-quotas.js';
import {mountOf, parseMountinfo} from '../mountinfo.js';
import {formatBytes} from '../../core/byte-size.js';
import {SandmanError} from '../../core/errors.js';
import {quotaCommand} from './quota-commands.js';
import {runProgram} from '../../core/adapters/run-program.js';

/**
 * loop: each home is an ext4 image file of the quota's size (sparse: it takes only what is
 * written), mounted on the home before the container starts and again after a reboot (docs/admin/disk-quotas.md). A larger quota grows the image, and its filesystem while mounted (resize2fs,
 * within the room mke2fs reserves: about 1024 times the first size). The kernel grows a mounted
 * ext4 only for a process with CAP_SYS_RESOURCE: where the growth fails (sandman in a container,
 * a unit with fewer capabilities, no room left), it is left marked and done unmounted the next time
 * the home is made ready with no container holding it (session start, reap after a reboot).
 */
export class LoopHomeQuotas implements HomeQuotas {
  readonly mechanism = 'loop' as const;

  /** `imageDir`: where the images live (`<workspaceRoot>/.sandman-homes`). */
  constructor(private readonly imageDir: string) {}

  imageOf(home: string): string {
    return path.join(this.imageDir, `${path.basename(home)}.ext4`);
  }

  /** Marks an image whose filesystem is smaller than the file: grown at the next ready(). */
  #growMark(image: string): string {
    return `${image}.grow`;
  }

  async apply(home: string, uid: number, limit: number): Promise<string | void> {
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
      await writeFile(this.#growMark(image), '');
      await quotaCommand('truncate', ['-s', String(limit), image], 'growing the home image');
      if (await this.#mounted(home)) {
        const refused = await this.#growOnline(image);
        if (refused === undefined) return;
        // Nothing else holds it (no running session): grown unmounted now; else at the next start.
        if (await this.#regrow(home, image)) return;
        const user = path.basename(home);
        return `${user}'s home image is ${formatBytes(limit)}, but its mounted filesystem could not grow (${refused}): the new limit applies when no session of ${user} runs and one starts (sandman session stop ${user}, then sandman session start ${user})`;
      }
    }
    await this.ready(home);
  }

  /** The mounted filesystem grown to the image's size; undefined when done, else the refusal. */
  async #growOnline(image: string): Promise<string | undefined> {
    const device = await this.#loopDevice(image);
    if (!device) return `no loop device holds ${image}`;
    await quotaCommand('losetup', ['-c', device], 'growing the home image');
    const grown = await runProgram('resize2fs', [device], {timeoutMs: 120_000});
    if (grown.exitCode !== 0) return grown.stderr.trim().split('\n').at(-1) || `exit ${grown.exitCode}`;
    await rm(this.#growMark(image), {force: true});
    return undefined;
  }

  /**
   * A marked image grown unmounted: the home's mount let go and, when no container holds the
   * image any more (its loop device went with the mount), checked and grown. True when grown.
   */
  async #regrow(home: string, image: string): Promise<boolean> {
    // Busy on the host (a shell in it): left as it is, grown at a later start.
    if ((await this.#mounted(home)) && (await runProgram('umount', [home])).exitCode !== 0) return false;
    const held = await this.#loopDevice(image);
    if (held) {
      await quotaCommand('mount', ['-o', 'nosuid,nodev', held, home], 'mounting the home image');
      return false;
    }
    // e2fsck: 1 is "errors corrected"; resize2fs wants a fresh check before it grows unmounted.
    const checked = await runProgram('e2fsck', ['-f', '-p', image], {timeoutMs: 600_000});
    if (checked.exitCode > 1)
      throw new SandmanError(
        'FAILURE',
        `checking ${image} before growing it: e2fsck -f -p exit ${checked.exitCode}: ${checked.stdout.trim()} ${checked.stderr.trim()}; run e2fsck -f ${image} by hand`,
      );
    await quotaCommand('resize2fs', [image], 'growing the home filesystem');
    await rm(this.#growMark(image), {force: true});
    await this.#mount(home, image);
    return true;
  }

  async #loopDevice(image: string): Promise<string | undefined> {
    const listed = await quotaCommand('losetup', ['-j', image], 'finding the home image').catch(() => '');
    return listed.split(':')[0]?.trim() || undefined;
  }

  async #mount(home: string, image: string): Promise<void> {
    await mkdir(home, {recursive: true, mode: 0o700});
    await quotaCommand('mount', ['-o', 'loop,nosuid,nodev', image, home], 'mounting the home image');
  }

  // The home IS the image: with no quota it keeps the image's size (docs/admin/disk-quotas.md says
  // so); moving the files back out would need the session stopped.
  async lift(): Promise<void> {}

  async ready(home: string): Promise<void> {
    const image = this.imageOf(home);
    if (await stat(this.#growMark(image)).catch(() => undefined)) {
      await this.#regrow(home, image);
      return;
    }
    if (await this.#mounted(home)) return;
    if (!(await stat(image).catch(() => undefined))) return;
    await this.#mount(home, image);
  }

  async detach(home: string): Promise<void> {
    if (await this.#mounted(home)) await quotaCommand('umount', [home], 'unmounting the home image');
    await rm(this.imageOf(home), {force: true});
    await rm(this.#growMark(this.imageOf(home)), {force: true});
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
