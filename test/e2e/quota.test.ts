import {chown, mkdir, readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {fill, LOOP_QUOTA_ENV, MiB, removeLoopSandbox, type Created} from '../helpers/home-quota.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';

/**
 * Disk quotas (docs/admin/disk-quotas.md), for real on this kernel: btrfs qgroups on a loop-mounted
 * btrfs the test makes, and loop images (an ext4 file per home) on the machine's own filesystem.
 * XFS and ext4 project quotas cannot run on this kernel (no quota support built in).
 */
describe('btrfs: a subvolume per home with a qgroup limit', () => {
  let sandbox: Sandbox;
  let mnt: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    sandbox = createSandbox({portStart: 35_500, portCount: 10});
    const image = path.join(sandbox.dir, 'btrfs.img');
    mnt = path.join(sandbox.dir, 'btrfs');
    await mkdir(mnt);
    await execa('truncate', ['-s', '600M', image]);
    await execa('mkfs.btrfs', ['-q', image]);
    await execa('mount', ['-o', 'loop', image, mnt]);
    env = {
      SANDMAN_WORKSPACE_ROOT: path.join(mnt, 'ws'),
      SANDMAN_WORKSPACE_QUOTA: '50m',
      SANDMAN_METRICS_FILE: path.join(sandbox.dir, 'sandman.prom'),
    };
  });
  afterAll(async () => {
    await sandbox.run(['session', 'rm', '--all', '--yes'], {env});
    await execa('umount', [mnt], {reject: false});
    await sandbox.cleanup();
  });

  it('stops a write at the limit, leaves other homes alone, shows the use, and takes a raise without a restart', async () => {
    expect((await sandbox.run(['user', 'add', 'alice', '--no-gpu'], {env})).exitCode).toBe(0);
    const alice = (await sandbox.json<Created>(['session', 'create', 'alice', '--no-gpu'], {env})).body;
    const bob = (await sandbox.json<Created>(['session', 'create', 'bob', '--no-gpu'], {env})).body;
    const subvolume = await execa('btrfs', ['subvolume', 'show', path.join(mnt, 'ws', 'alice')], {
      reject: false,
    });
    expect(subvolume.exitCode, subvolume.stderr).toBe(0);
    expect(await fill(alice, 'alice', 80)).toMatch(/Disk quota exceeded/);
    expect(await fill(bob, 'bob', 20)).toMatch(/20971520 bytes .* copied[\s\S]*rc=0/);
    const shown = await sandbox.json<{disk: {used: number; limit: number; mechanism: string}}>(
      ['session', 'show', 'alice'],
      {env},
    );
    expect(shown.body.disk).toMatchObject({limit: 50 * MiB, mechanism: 'btrfs'});
    expect(shown.body.disk.used).toBeGreaterThan(45 * MiB);
    const human = await sandbox.run(['session', 'show', 'alice'], {env});
    expect(human.stdout).toMatch(/^Disk: +\d+(\.\d)? MiB of 50 MiB \(btrfs qgroup\)$/m);
    // Nearly full: the next reap has the session's login shells say so (and bob's not).
    const warned = await sandbox.json<{items: Array<{action: string; reason: string; user: string}>}>(
      ['reap'],
      {env},
    );
    expect(warned.body.items).toEqual([
      expect.objectContaining({action: 'warn', reason: 'disk', user: 'alice'}),
    ]);
    const loginShell = await sshRun(alice.ssh_private_key_path, alice.ssh_port, 'alice', 'bash -lc true');
    expect(loginShell.stderr).toMatch(/sandman: your home is \d+ % full: .* of 50 MiB \(btrfs qgroup\)/);
    const bobShell = await sshRun(bob.ssh_private_key_path, bob.ssh_port, 'bob', 'bash -lc true');
    expect(bobShell.stderr).not.toMatch(/full/);
    // A raise applies at once: the same session, same container, now writes the 80 MiB.
    expect((await sandbox.run(['user', 'set', 'alice', '--quota', '100m'], {env})).exitCode).toBe(0);
    expect(await fill(alice, 'alice', 80)).toMatch(/83886080 bytes .* copied[\s\S]*rc=0/);
    const doctor = await sandbox.json<{checks: Array<{name: string; status: string; detail: string}>}>(
      ['doctor'],
      {
        env,
      },
    );
    expect(doctor.body.checks.find((check) => check.name === 'disk quotas')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^a subvolume per home with a qgroup limit, on btrfs at /),
    });
    // Metrics: each home's use and limit, in a file promtool accepts.
    expect((await sandbox.run(['reap'], {env})).exitCode).toBe(0);
    const metrics = await readFile(env.SANDMAN_METRICS_FILE!, 'utf8');
    expect(metrics).toMatch(/^sandman_home_limit_bytes\{user="alice"\} 104857600$/m);
    expect(metrics).toMatch(/^sandman_home_used_bytes\{user="alice"\} \d{8}$/m);
    expect((await execa('promtool', ['check', 'metrics'], {input: metrics, reject: false})).exitCode).toBe(0);
    const listed = await sandbox.run(['user', 'ls'], {env});
    expect(listed.stdout).toMatch(/alice .* of 100 MiB \(btrfs qgroup\)/);
    // Taken away ("none"): the limit is lifted in place and the same session writes past it.
    expect((await sandbox.run(['user', 'set', 'alice', '--quota', 'none'], {env})).exitCode).toBe(0);
    expect(await fill(alice, 'alice', 120, 'bigger')).toMatch(/125829120 bytes .* copied[\s\S]*rc=0/);
    const lifted = await sandbox.json<{disk?: unknown}>(['session', 'show', 'alice'], {env});
    expect(lifted.body.disk).toBeUndefined();
  });

  it('moves an existing plain home into a subvolume with its files and owner intact', async () => {
    const home = path.join(mnt, 'ws', 'carol');
    await mkdir(path.join(home, 'project'), {recursive: true});
    await writeFile(path.join(home, 'project', 'notes.txt'), 'kept\n');
    await chown(home, 23_456, 23_456);
    await chown(path.join(home, 'project'), 23_456, 23_456);
    await chown(path.join(home, 'project', 'notes.txt'), 23_456, 23_456);
    const carol = await sandbox.json<Created>(['session', 'create', 'carol', '--no-gpu'], {env});
    expect(carol.exitCode, JSON.stringify(carol.body)).toBe(0);
    expect(carol.body.uid).toBe(23_456);
    expect((await execa('btrfs', ['subvolume', 'show', home], {reject: false})).exitCode).toBe(0);
    expect(await readFile(path.join(home, 'project', 'notes.txt'), 'utf8')).toBe('kept\n');
    expect((await stat(path.join(home, 'project', 'notes.txt'))).uid).toBe(23_456);
    const read = await sshRun(
      carol.body.ssh_private_key_path,
      carol.body.ssh_port,
      'carol',
      'cat ~/project/notes.txt',
    );
    expect(read.stdout).toBe('kept');
  });
});

describe('loop: an ext4 image per home, on the machine’s own filesystem', () => {
  let sandbox: Sandbox;
  const env = LOOP_QUOTA_ENV;
  beforeAll(() => {
    sandbox = createSandbox({portStart: 35_520, portCount: 10});
  });
  afterAll(() => removeLoopSandbox(sandbox, ['dora', 'emil']));

  it('stops a write at the limit, and after a reboot one reap mounts the home again with its files', async () => {
    const dora = (await sandbox.json<Created>(['session', 'create', 'dora', '--no-gpu'], {env})).body;
    const emil = (await sandbox.json<Created>(['session', 'create', 'emil', '--no-gpu'], {env})).body;
    const home = path.join(sandbox.workspaceRoot, 'dora');
    expect((await execa('findmnt', ['-n', '-o', 'FSTYPE', home])).stdout.trim()).toBe('ext4');
    expect(await fill(dora, 'dora', 80)).toMatch(/No space left on device|Disk quota exceeded/);
    expect(await fill(emil, 'emil', 20)).toMatch(/rc=0/);
    const shown = await sandbox.json<{disk: {used: number; limit: number; mechanism: string}}>(
      ['session', 'show', 'dora'],
      {env},
    );
    expect(shown.body.disk.mechanism).toBe('loop');
    expect(shown.body.disk.limit).toBeLessThanOrEqual(50 * MiB);
    expect(shown.body.disk.used).toBeGreaterThan(40 * MiB);
    expect(
      (await sshRun(dora.ssh_private_key_path, dora.ssh_port, 'dora', 'rm ~/big; echo after > ~/note'))
        .exitCode,
    ).toBe(0);
    // A reboot: the container stops, the image is no longer mounted.
    await execa('docker', ['stop', '-t', '1', dora.container_id]);
    await execa('umount', [home]);
    expect((await execa('findmnt', ['-n', home], {reject: false})).exitCode).not.toBe(0);
    const reap = await sandbox.json<{items: Array<{action: string; result: string}>}>(['reap'], {env});
    expect(reap.body.items).toContainEqual(
      expect.objectContaining({action: 'resume-session', result: 'done'}),
    );
    expect((await execa('findmnt', ['-n', '-o', 'FSTYPE', home])).stdout.trim()).toBe('ext4');
    let read = {stdout: ''};
    for (let tries = 0; tries < 50 && read.stdout !== 'after'; tries++) {
      read = await sshRun(dora.ssh_private_key_path, dora.ssh_port, 'dora', 'cat ~/note');
      if (read.stdout !== 'after') await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(read.stdout).toBe('after');
    // Removing sandman with --purge lets go of the images before the homes go.
    const purged = await sandbox.run(['setup', '--remove', '--force', '--purge', '--yes'], {env});
    expect(purged.exitCode, purged.stdout + purged.stderr).toBe(0);
    expect((await execa('findmnt', ['-n', home], {reject: false})).exitCode).not.toBe(0);
    expect(await stat(home).catch(() => undefined)).toBeUndefined();
  });
});

describe('a quota the filesystem cannot enforce', () => {
  it('is exit 6 naming the filesystem and the fix, and nothing is made', async () => {
    const sandbox = createSandbox({portStart: 35_540, portCount: 5});
    const tmpfs = path.join(sandbox.dir, 'tmpfs');
    await mkdir(tmpfs);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', tmpfs]);
    try {
      const env = {SANDMAN_WORKSPACE_ROOT: path.join(tmpfs, 'ws'), SANDMAN_WORKSPACE_QUOTA: '50m'};
      const refused = await sandbox.json<{error: {message: string; exit_code: number}}>(
        ['session', 'create', 'tina', '--no-gpu'],
        {env},
      );
      expect(refused.exitCode).toBe(6);
      expect(refused.body.error.message).toMatch(
        /a disk quota of 50 MiB \(from setting\) cannot be enforced: tmpfs at .* cannot enforce a quota .*quotaMode loop/,
      );
      expect(await sandbox.containers()).toEqual([]);
      expect((await sandbox.json<unknown[]>(['session', 'ls'], {env})).body).toEqual([]);
      // doctor names what is missing and how to get it.
      const doctor = await sandbox.json<{
        checks: Array<{name: string; status: string; detail: string; hint: string}>;
      }>(['doctor'], {env});
      expect(doctor.body.checks.find((check) => check.name === 'disk quotas')).toMatchObject({
        status: 'fail',
        detail: expect.stringMatching(/a quota is set, but tmpfs at .* cannot enforce a quota/),
        hint: expect.stringMatching(/btrfs.*prjquota.*quotaMode loop/),
      });
    } finally {
      await execa('umount', [tmpfs], {reject: false});
      await sandbox.cleanup();
    }
  });

  it('an ext4 without prjquota (loop-mounted here): exit 6 with the tune2fs and mount fix, doctor says the same', async () => {
    const sandbox = createSandbox({portStart: 35_545, portCount: 5});
    const image = path.join(sandbox.dir, 'ext4.img');
    const mnt = path.join(sandbox.dir, 'ext4');
    await mkdir(mnt);
    await execa('truncate', ['-s', '64M', image]);
    await execa('mkfs.ext4', ['-q', image]);
    await execa('mount', ['-o', 'loop', image, mnt]);
    try {
      const env = {SANDMAN_WORKSPACE_ROOT: path.join(mnt, 'ws'), SANDMAN_WORKSPACE_QUOTA: '50m'};
      const refused = await sandbox.json<{error: {message: string}}>(
        ['session', 'create', 'erin', '--no-gpu'],
        {
          env,
        },
      );
      expect(refused.exitCode).toBe(6);
      expect(refused.body.error.message).toMatch(
        /cannot be enforced: ext4 at .* is not mounted with project quotas \(no prjquota\); tune2fs -O project,quota on it and mount it with -o prjquota, or set quotaMode loop/,
      );
      expect(await sandbox.containers()).toEqual([]);
      expect(await stat(path.join(mnt, 'ws', 'erin')).catch(() => undefined)).toBeUndefined();
      const doctor = await sandbox.json<{checks: Array<{name: string; status: string; hint: string}>}>(
        ['doctor'],
        {env},
      );
      expect(doctor.body.checks.find((check) => check.name === 'disk quotas')).toMatchObject({
        status: 'fail',
        hint: expect.stringMatching(/tune2fs -O project,quota/),
      });
    } finally {
      await execa('umount', [mnt], {reject: false});
      await sandbox.cleanup();
    }
  });
});

describe("containerDiskLimit: the container's own layer", () => {
  it("on an engine that cannot limit it: create is exit 6 with the engine's reason, nothing left; doctor says why", async () => {
    const sandbox = createSandbox({portStart: 35_550, portCount: 5});
    try {
      const env = {SANDMAN_CONTAINER_DISK_LIMIT: '1g'};
      // This project's engines keep layers on ext4 (overlay2 "extfs"; the kernel has no XFS quota
      // support either): Docker refuses the option, and says why.
      const status = JSON.parse(
        (await execa('docker', ['info', '--format', '{{json .DriverStatus}}'])).stdout,
      ) as Array<[string, string]>;
      const backing = status.find(([key]) => key === 'Backing Filesystem')?.[1];
      const refused = await sandbox.json<{error: {message: string}}>(
        ['session', 'create', 'lena', '--no-gpu'],
        {env},
      );
      expect(refused.exitCode).toBe(6);
      expect(refused.body.error.message).toMatch(
        /containerDiskLimit cannot be enforced by this engine: .*overlay over xfs with 'pquota'/,
      );
      expect(await sandbox.containers()).toEqual([]);
      expect(await sandbox.keyFiles()).toEqual([]);
      const doctor = await sandbox.json<{checks: Array<{name: string; status: string; detail: string}>}>(
        ['doctor'],
        {
          env,
        },
      );
      expect(doctor.body.checks.find((check) => check.name === 'container disk')).toMatchObject({
        status: 'fail',
        detail: `containerDiskLimit is set, but the engine stores layers with overlay2 on ${backing}: it cannot limit a container's layer`,
      });
    } finally {
      await sandbox.cleanup();
    }
  });
});
