import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {formatBytes} from '../../src/core/byte-size.js';
import {parseQgroupShow} from '../../src/homes/btrfs-qgroup.js';
import {chooseMechanism} from '../../src/homes/home-quotas.js';
import {mountOf, parseMountinfo} from '../../src/homes/mountinfo.js';
import {ROOT} from '../helpers/constants.js';

/** The quota parsers on real captures (test/fixtures/quota/SOURCES.md), and the choice of mechanism. */
const capture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/quota', name), 'utf8');

describe('btrfs qgroup show', () => {
  it("reads a subvolume's bytes and limit", () => {
    expect(parseQgroupShow(capture('btrfs-qgroup-show-reF-raw_limited.txt'))).toEqual({
      qgroup: '0/256',
      referenced: 20_987_904,
      limit: 52_428_800,
    });
  });

  it('finds no subvolume qgroup in the top level’s', () => {
    expect(parseQgroupShow(capture('btrfs-qgroup-show-reF-raw_toplevel.txt'))).toBeUndefined();
  });
});

describe('which mechanism', () => {
  const btrfs = parseMountinfo(capture('mountinfo_btrfs-loop.txt'));
  const plain = parseMountinfo(capture('mountinfo_xfs-ext4-no-quota.txt'));
  const tmpfs = parseMountinfo(capture('mountinfo_tmpfs.txt'));

  it('reads mount points, types and options, and finds the mount under a path', () => {
    expect(btrfs).toEqual([
      {
        mountPoint: '/tmp/bt/mnt',
        fsType: 'btrfs',
        source: '/dev/loop0',
        options: ['rw', 'relatime', 'rw', 'discard=async', 'space_cache=v2', 'subvolid=5', 'subvol=/'],
      },
    ]);
    expect(mountOf([...btrfs, ...plain], '/tmp/bt/mnt/ws/alice')?.fsType).toBe('btrfs');
    expect(mountOf([...btrfs, ...plain], '/tmp/bt/mx')?.fsType).toBe('xfs');
    expect(mountOf(btrfs, '/tmp/bt/mntx')).toBeUndefined();
  });

  it('auto: btrfs by subvolumes; XFS and ext4 without prjquota and tmpfs refused with the fix', () => {
    expect(chooseMechanism('auto', btrfs[0]).mechanism).toBe('btrfs');
    const [xfs, ext4] = plain;
    expect(chooseMechanism('auto', xfs)).toEqual({
      mechanism: null,
      why: 'xfs at /tmp/bt/mx is not mounted with project quotas (no prjquota)',
      fix: 'mount it with -o prjquota (in /etc/fstab), or set quotaMode loop',
    });
    expect(chooseMechanism('auto', ext4).fix).toMatch(/tune2fs -O project,quota .* -o prjquota/);
    expect(chooseMechanism('auto', tmpfs[0]).why).toBe(
      'tmpfs at /dev/shm cannot enforce a quota (no project or subvolume quotas)',
    );
  });

  it('a named mode: loop anywhere, btrfs only on btrfs, off never', () => {
    expect(chooseMechanism('loop', tmpfs[0]).mechanism).toBe('loop');
    expect(chooseMechanism('btrfs', plain[1]).mechanism).toBeNull();
    expect(chooseMechanism('off', btrfs[0]).mechanism).toBeNull();
  });

  it('prints sizes as df -h does', () => {
    expect([formatBytes(52_428_800), formatBytes(20_987_904), formatBytes(512), formatBytes(1536)]).toEqual([
      '50 MiB',
      '20.0 MiB',
      '512 B',
      '1.5 KiB',
    ]);
  });
});
