import {formatBytes} from '../core/byte-size.js';
import type {HomeDisk} from './home-quotas.js';

const MECHANISM_WORDS = {
  btrfs: 'btrfs qgroup',
  loop: 'loop image',
  xfs: 'xfs project quota',
  ext4: 'ext4 project quota',
} as const;

/** `12.3 GiB of 50 GiB (btrfs qgroup)`, as `session show` and `user show` print it. */
export function diskText(disk: HomeDisk): string {
  const limit = disk.limit === null ? 'no limit' : formatBytes(disk.limit);
  return `${formatBytes(disk.used)} of ${limit} (${MECHANISM_WORDS[disk.mechanism]})`;
}

/** At or above this share of its quota, a home is nearly full (the login banner warns). */
export const NEARLY_FULL = 0.9;
