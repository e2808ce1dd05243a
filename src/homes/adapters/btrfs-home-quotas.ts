import {chmod, chown, mkdir, readdir, rename, rm, stat} from 'node:fs/promises';
import path from 'node:path';

import {parseQgroupShow} from '../btrfs-qgroup.js';
import type {HomeDisk, HomeQuotas} from '../home-quotas.js';
import {quotaCommand} from './quota-commands.js';

/** The inode number of a btrfs subvolume's root directory: how a subvolume is told from a directory. */
const SUBVOLUME_ROOT_INODE = 256;

/**
 * btrfs: each home is a subvolume with a qgroup limit on what it references (docs/admin/disk-quotas.md). A limit changes in place; a plain home directory is moved into a new subvolume (a
 * reflink copy: no data is copied on btrfs), files and owners intact.
 */
export class BtrfsHomeQuotas implements HomeQuotas {
  readonly mechanism = 'btrfs' as const;

  constructor(private readonly mountPoint: string) {}

  async apply(home: string, uid: number, limit: number): Promise<void> {
    const info = await stat(home).catch(() => undefined);
    if (!info) await this.#subvolume(home, uid);
    else if (Number(info.ino) !== SUBVOLUME_ROOT_INODE) await this.#moveIn(home, uid);
    // Quotas on the filesystem: once, idempotent (and a rescan is started by btrfs if needed).
    await quotaCommand('btrfs', ['quota', 'enable', this.mountPoint], 'btrfs quota');
    await quotaCommand('btrfs', ['qgroup', 'limit', String(limit), home], 'btrfs quota');
  }

  async lift(home: string): Promise<void> {
    await quotaCommand('btrfs', ['qgroup', 'limit', 'none', home], 'btrfs quota');
  }

  async ready(): Promise<void> {}

  // A subvolume is removed as a directory is (root may rmdir an empty one).
  async detach(): Promise<void> {}

  async usage(home: string): Promise<HomeDisk | undefined> {
    const text = await quotaCommand('btrfs', ['qgroup', 'show', '-reF', '--raw', home], 'btrfs quota').catch(
      () => '',
    );
    const qgroup = parseQgroupShow(text);
    return qgroup ? {used: qgroup.referenced, limit: qgroup.limit, mechanism: 'btrfs'} : undefined;
  }

  async #subvolume(home: string, uid: number): Promise<void> {
    await mkdir(path.dirname(home), {recursive: true});
    await quotaCommand('btrfs', ['subvolume', 'create', home], 'btrfs subvolume');
    await chown(home, uid, uid);
    await chmod(home, 0o700);
  }

  /** A plain directory becomes a subvolume with the same files (reflinks) and owners. */
  async #moveIn(home: string, uid: number): Promise<void> {
    const fresh = `${home}.sandman-subvolume`;
    const old = `${home}.sandman-plain`;
    await rm(fresh, {recursive: true, force: true}).catch(() => undefined);
    await quotaCommand('btrfs', ['subvolume', 'create', fresh], 'btrfs subvolume');
    if ((await readdir(home)).length > 0)
      await quotaCommand(
        'cp',
        ['-a', '--reflink=auto', `${home}/.`, `${fresh}/`],
        'moving the home into a subvolume',
      );
    const owner = await stat(home);
    await chown(fresh, owner.uid ?? uid, owner.gid ?? uid);
    await chmod(fresh, owner.mode & 0o7777);
    await rename(home, old);
    await rename(fresh, home);
    await rm(old, {recursive: true, force: true});
  }
}
