/** create with a home quota (btrfs, loop) against the same create without one. */
import {mkdir} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';

import {RUNS, dir, env, sandman, timed, median, sshUntilReady, type Row} from '../harness.js';

/**
 * create → SSH with a home quota against the same create without one (docs/admin/disk-quotas.md):
 * btrfs on a loop-mounted btrfs made here, loop images on this machine's filesystem.
 */
export async function benchQuota(): Promise<Row[]> {
  const rows: Row[] = [];
  const image = path.join(dir, 'btrfs.img');
  const mnt = path.join(dir, 'btrfs');
  await mkdir(mnt, {recursive: true});
  await execa('truncate', ['-s', '2G', image]);
  await execa('mkfs.btrfs', ['-q', image]);
  await execa('mount', ['-o', 'loop', image, mnt]);
  const createToSsh = async (user: string, extra: Record<string, string>) =>
    timed(async () => {
      const created = await sandman(['session', 'create', user, '--no-gpu', '--json'], extra);
      if (created.exitCode !== 0) throw new Error(`session create failed: ${String(created.stderr)}`);
      const body = JSON.parse(String(created.stdout));
      await sshUntilReady(body.ssh_private_key_path, body.ssh_port, user);
    });
  try {
    for (const [name, quota, plain] of [
      [
        'btrfs',
        {SANDMAN_WORKSPACE_ROOT: path.join(mnt, 'ws'), SANDMAN_WORKSPACE_QUOTA: '1g'},
        {SANDMAN_WORKSPACE_ROOT: path.join(mnt, 'ws')},
      ],
      ['loop', {SANDMAN_QUOTA_MODE: 'loop', SANDMAN_WORKSPACE_QUOTA: '1g'}, {}],
    ] as const) {
      const mine: number[] = [];
      const without: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        // A new user each run: the first create of a home is the one that makes its quota.
        mine.push(await createToSsh(`q${name}${run}`, quota));
        without.push(await createToSsh(`p${name}${run}`, plain));
        await sandman(['session', 'rm', `q${name}${run}`, `p${name}${run}`], quota);
      }
      rows.push({
        name: `create → SSH, ${name} quota`,
        sandman: median(mine),
        baseline: median(without),
        baselineName: 'the same create without a quota',
        target: 1.2,
        unit: 'ms',
      });
    }
  } finally {
    await sandman(['session', 'rm', '--all', '--yes']);
    const homes = path.join(String(env.SANDMAN_WORKSPACE_ROOT));
    for (let run = 0; run < RUNS; run++)
      await execa('umount', [path.join(homes, `qloop${run}`)], {reject: false});
    await execa('umount', [mnt], {reject: false});
  }
  return rows;
}
