import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {afterEach, describe, expect, it} from 'vitest';

import {Ext4HomeQuotas} from '../../src/homes/adapters/ext4-home-quotas.js';
import {parseLsattrProject} from '../../src/homes/adapters/project-home-quotas.js';
import {XfsHomeQuotas} from '../../src/homes/adapters/xfs-home-quotas.js';
import {chooseMechanism} from '../../src/homes/home-quotas.js';
import {parseMountinfo} from '../../src/homes/mountinfo.js';
import {parseRepquotaProject} from '../../src/homes/repquota-report.js';
import {parseXfsProjectReport} from '../../src/homes/xfs-quota-report.js';
import {ROOT} from '../helpers/constants.js';

/**
 * XFS and ext4 project quotas on real outputs: test/fixtures/quota/xfs-ext4 was captured from a
 * live Debian 12 kernel (6.1) under QEMU by test/fixtures/quota/capture/build-and-run.sh, since
 * this machine's kernel has no XFS/ext4 quota support (docs/admin/disk-quotas.md).
 */
const capture = (name: string) =>
  readFileSync(path.join(ROOT, 'test/fixtures/quota/xfs-ext4', `${name}.txt`), 'utf8');
const KiB = 1024;

describe('the tools’ reports', () => {
  it('xfs_quota report -p -n -b: used and hard limit of one project, none when 0', () => {
    expect(parseXfsProjectReport(capture('xfs_quota-report-p-n-b'), 1000)).toEqual({
      used: 20480 * KiB,
      limit: 51200 * KiB,
    });
    expect(parseXfsProjectReport(capture('xfs_quota-report-p-n-b_raised'), 1000)?.limit).toBe(102400 * KiB);
    expect(parseXfsProjectReport(capture('xfs_quota-report-p-n-b_lifted'), 1000)).toEqual({
      used: 20480 * KiB,
      limit: null,
    });
    expect(parseXfsProjectReport(capture('xfs_quota-report-p-n-b'), 1001)).toEqual({used: 0, limit: null});
    expect(parseXfsProjectReport(capture('xfs_quota-report-p-n-b'), 100)).toBeUndefined();
  });

  it('repquota -P -n: used and hard limit of one project among several', () => {
    expect(parseRepquotaProject(capture('repquota-P-n'), 1000)).toEqual({
      used: 20481 * KiB,
      limit: 51200 * KiB,
    });
    expect(parseRepquotaProject(capture('repquota-P-n_two'), 1001)).toEqual({
      used: 3 * KiB,
      limit: 10240 * KiB,
    });
    expect(parseRepquotaProject(capture('repquota-P-n_two'), 0)).toEqual({used: 14 * KiB, limit: null});
    expect(parseRepquotaProject(capture('repquota-P-n'), 1001)).toBeUndefined();
  });

  it('lsattr -pd: the project of a directory, on ext4 and XFS', () => {
    expect(parseLsattrProject(capture('lsattr-pd'))).toBe(1000);
    expect(parseLsattrProject(capture('lsattr-pd-xfs'))).toBe(1000);
    expect(parseLsattrProject(capture('lsattr-pd-xfs-before'))).toBe(0);
    expect(parseLsattrProject(capture('chattr-P-p_noproject'))).toBeUndefined();
  });
});

describe('which mechanism, from the mount options of live mounts', () => {
  const mount = (name: string) => parseMountinfo(capture(name))[0];

  it('XFS and ext4 mounted with prjquota enforce; without it, refused with the fix', () => {
    expect(chooseMechanism('auto', mount('mountinfo_xfs-prjquota'))).toEqual({
      mechanism: 'xfs',
      why: 'XFS project quotas, on xfs at /mnt/x (prjquota)',
    });
    expect(chooseMechanism('auto', mount('mountinfo_ext4-prjquota')).mechanism).toBe('ext4');
    expect(chooseMechanism('xfs', mount('mountinfo_xfs-noquota'))).toMatchObject({
      mechanism: null,
      fix: expect.stringMatching(/-o prjquota/),
    });
    expect(chooseMechanism('auto', mount('mountinfo_ext4-noquota')).fix).toMatch(/tune2fs -O project,quota/);
    // quotaMode ext4 on an XFS is refused, not quietly treated as XFS.
    expect(chooseMechanism('ext4', mount('mountinfo_xfs-prjquota')).mechanism).toBeNull();
  });
});

/** Runs the mechanism against replayed captures: each exact command the guest ran gives its output. */
function replay(home: string, mountPoint: string, outputs: Record<string, string>) {
  const ran: string[] = [];
  const run = async (file: string, args: string[]): Promise<string> => {
    // The capture VM's paths stand for this test's.
    const line = [file, ...args].join(' ').replaceAll(home, '<home>').replaceAll(mountPoint, '<mnt>');
    ran.push(line);
    const name = outputs[line];
    if (name === undefined) throw new Error(`no capture for: ${line}`);
    return name === '' ? '' : capture(name);
  };
  return {run, ran};
}

describe('the commands each mechanism runs', () => {
  let dir: string;
  afterEach(() => rmSync(dir, {recursive: true, force: true}));
  const fresh = () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sandman-pquota-'));
    return {home: path.join(dir, 'alice'), mnt: dir};
  };

  it('xfs: project then limit on a new home, only the limit after, lift to 0, usage from the report', async () => {
    const {home, mnt} = fresh();
    const first = replay(home, mnt, {
      'lsattr -pd <home>': 'lsattr-pd-xfs-before',
      'xfs_quota -x -c project -s -p <home> 1000 <mnt>': 'xfs_quota-project-s',
      'xfs_quota -x -c limit -p bhard=51200k 1000 <mnt>': '',
    });
    await new XfsHomeQuotas(mnt, first.run).apply(home, 1000, 50 * 1024 * KiB);
    expect(first.ran).toEqual([
      'lsattr -pd <home>',
      'xfs_quota -x -c project -s -p <home> 1000 <mnt>',
      'xfs_quota -x -c limit -p bhard=51200k 1000 <mnt>',
    ]);
    const later = replay(home, mnt, {
      'lsattr -pd <home>': 'lsattr-pd-xfs',
      'xfs_quota -x -c limit -p bhard=102400k 1000 <mnt>': '',
      'xfs_quota -x -c report -p -n -b <mnt>': 'xfs_quota-report-p-n-b_raised',
      'xfs_quota -x -c limit -p bhard=0 1000 <mnt>': '',
    });
    const xfs = new XfsHomeQuotas(mnt, later.run);
    await xfs.apply(home, 1000, 100 * 1024 * KiB);
    expect(await xfs.usage(home)).toEqual({used: 20480 * KiB, limit: 102400 * KiB, mechanism: 'xfs'});
    await xfs.lift(home);
    expect(later.ran).toEqual([
      'lsattr -pd <home>',
      'xfs_quota -x -c limit -p bhard=102400k 1000 <mnt>',
      'xfs_quota -x -c report -p -n -b <mnt>',
      'xfs_quota -x -c limit -p bhard=0 1000 <mnt>',
    ]);
  });

  it('ext4: +P and the project on directories, the project on files, then setquota; usage from repquota', async () => {
    const {home, mnt} = fresh();
    const first = replay(home, mnt, {
      'lsattr -pd <home>': 'lsattr-pd-xfs-before',
      'find <home> -xdev -type d -exec chattr +P -p 1000 {} +': 'find-chattr-dirs',
      'find <home> -xdev -type f -exec chattr -p 1000 {} +': 'find-chattr-files',
      'setquota -P 1000 0 51200 0 0 <mnt>': 'setquota-P',
      'repquota -P -n <mnt>': 'repquota-P-n',
      'setquota -P 1000 0 0 0 0 <mnt>': '',
    });
    const ext4 = new Ext4HomeQuotas(mnt, first.run);
    await ext4.apply(home, 1000, 50 * 1024 * KiB);
    expect(await ext4.usage(home)).toEqual({used: 20481 * KiB, limit: 51200 * KiB, mechanism: 'ext4'});
    await ext4.lift(home);
    expect(first.ran).toEqual([
      'lsattr -pd <home>',
      'find <home> -xdev -type d -exec chattr +P -p 1000 {} +',
      'find <home> -xdev -type f -exec chattr -p 1000 {} +',
      'setquota -P 1000 0 51200 0 0 <mnt>',
      'repquota -P -n <mnt>',
      'setquota -P 1000 0 0 0 0 <mnt>',
    ]);
    // A raise: the tree already carries the project (lsattr), so only the limit changes.
    const later = replay(home, mnt, {
      'lsattr -pd <home>': 'lsattr-pd',
      'setquota -P 1000 0 102400 0 0 <mnt>': 'setquota-P-raise',
    });
    await new Ext4HomeQuotas(mnt, later.run).apply(home, 1000, 100 * 1024 * KiB);
    expect(later.ran).toEqual(['lsattr -pd <home>', 'setquota -P 1000 0 102400 0 0 <mnt>']);
  });

  it('a home path with a blank is refused before any command (xfs_quota would split it)', async () => {
    const {mnt} = fresh();
    const none = replay('/x', mnt, {});
    await expect(new XfsHomeQuotas(mnt, none.run).apply(path.join(mnt, 'a b'), 1000, KiB)).rejects.toThrow(
      /has a blank/,
    );
    expect(none.ran).toEqual([]);
  });
});
