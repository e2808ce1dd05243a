// Disk limits: a session's own layer and its home (docs/admin/disk-quotas.md).
import {byteSize, oneOf, type Settings} from './setting.js';

export const DISK_SETTINGS = {
  containerDiskLimit: {
    description:
      "a session container's own layer (/, /tmp, /opt) at most this size, e.g. 20g (overlay2 on XFS with pquota)",
    defaultText: 'none',
    parse: byteSize,
  },
  workspaceQuota: {
    description: "each home's disk limit, e.g. 50g (a user's or group's quota overrides it)",
    defaultText: 'none',
    parse: byteSize,
  },
  quotaMode: {
    description:
      'how home quotas are enforced: auto (from the filesystem under workspaceRoot), btrfs, loop, xfs, ext4 or off',
    parse: oneOf(
      ['auto', 'xfs', 'ext4', 'btrfs', 'loop', 'off'],
      'must be auto, xfs, ext4, btrfs, loop or off',
    ),
    default: 'auto',
  },
} satisfies Settings;
