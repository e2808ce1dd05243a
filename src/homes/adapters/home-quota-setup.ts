import {readFile} from 'node:fs/promises';
import path from 'node:path';

import type {Config} from '../../config/config.js';
import {chooseMechanism, type HomeQuotas, type QuotaChoice} from '../home-quotas.js';
import {mountOf, parseMountinfo} from '../mountinfo.js';
import {BtrfsHomeQuotas} from './btrfs-home-quotas.js';
import {Ext4HomeQuotas} from './ext4-home-quotas.js';
import {LoopHomeQuotas} from './loop-home-quotas.js';
import {XfsHomeQuotas} from './xfs-home-quotas.js';

/**
 * The quota mechanism for this setup's workspaceRoot (docs/admin/disk-quotas.md), from the filesystem
 * it is on (/proc/self/mountinfo) and quotaMode: the choice in words, and its implementation.
 */
export async function homeQuotasFor(config: Config): Promise<{choice: QuotaChoice; quotas?: HomeQuotas}> {
  const mounts = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  const root = path.resolve(config.workspaceRoot);
  // The root may not exist yet: the filesystem is the one its nearest existing parent is on.
  const mount = mountOf(mounts, root);
  const choice = chooseMechanism(config.quotaMode, mount);
  if (choice.mechanism === 'btrfs') return {choice, quotas: new BtrfsHomeQuotas(mount!.mountPoint)};
  if (choice.mechanism === 'loop')
    return {choice, quotas: new LoopHomeQuotas(path.join(root, '.sandman-homes'))};
  if (choice.mechanism === 'xfs') return {choice, quotas: new XfsHomeQuotas(mount!.mountPoint)};
  if (choice.mechanism === 'ext4') return {choice, quotas: new Ext4HomeQuotas(mount!.mountPoint)};
  return {choice};
}
