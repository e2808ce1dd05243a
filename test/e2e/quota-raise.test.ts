import {readFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {fill, LOOP_QUOTA_ENV, MiB, removeLoopSandbox, type Created} from '../helpers/home-quota.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';

/**
 * A loop quota raised while the session runs (docs/admin/disk-quotas.md). The kernel grows a mounted
 * ext4 only for a process with CAP_SYS_RESOURCE: with it, the running session writes past the old
 * limit at once; without it (this lab's VM drops it for every process, dockerd's included), `user
 * set` says the raise waits and the session's next start applies it. The btrfs raise under a
 * running session is in quota.test.ts ("takes a raise without a restart").
 */
async function canGrowMounted(): Promise<boolean> {
  const status = await readFile('/proc/self/status', 'utf8');
  const effective = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(status)![1]}`);
  const CAP_SYS_RESOURCE = 24n;
  return ((effective >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

describe('loop: a quota raised under a running session', () => {
  let sandbox: Sandbox;
  const env = LOOP_QUOTA_ENV;
  beforeAll(() => {
    sandbox = createSandbox({portStart: 36_550, portCount: 5});
  });
  afterAll(() => removeLoopSandbox(sandbox, ['alice']));

  it('takes the raise without an error, and a write past the old limit then finishes', async () => {
    expect((await sandbox.run(['user', 'add', 'alice', '--no-gpu'], {env})).exitCode).toBe(0);
    const alice = (await sandbox.json<Created>(['session', 'create', 'alice', '--no-gpu'], {env})).body;
    expect(await fill(alice, 'alice', 80)).toMatch(/No space left on device/);
    await fill(alice, 'alice', 0);

    const raised = await sandbox.json<{warnings: string[]}>(['user', 'set', 'alice', '--quota', '200m'], {
      env,
    });
    expect(raised.exitCode, JSON.stringify(raised.body)).toBe(0);
    if (await canGrowMounted()) {
      expect(raised.body.warnings.join('\n')).not.toMatch(/could not grow/);
    } else {
      expect(raised.body.warnings).toContainEqual(
        expect.stringMatching(
          /^alice's home image is 200 MiB, but its mounted filesystem could not grow \(.*Permission denied.*\): the new limit applies when no session of alice runs and one starts \(sandman session stop alice, then sandman session start alice\)$/,
        ),
      );
      // Still the old limit while it runs; the next start grows it, files kept.
      expect(await fill(alice, 'alice', 1, 'kept')).toMatch(/rc=0/);
      expect(await fill(alice, 'alice', 80)).toMatch(/No space left on device/);
      expect((await sandbox.run(['session', 'stop', 'alice'], {env})).exitCode).toBe(0);
      const started = await sandbox.run(['session', 'start', 'alice'], {env});
      expect(started.exitCode, started.stdout + started.stderr).toBe(0);
      const kept = await sshRun(alice.ssh_private_key_path, alice.ssh_port, 'alice', 'stat -c %s ~/kept');
      expect(kept.stdout).toBe(String(MiB));
    }
    expect(await fill(alice, 'alice', 80)).toMatch(/83886080 bytes .* copied[\s\S]*rc=0/);
    const shown = await sandbox.json<{disk: {limit: number; mechanism: string}}>(
      ['session', 'show', 'alice'],
      {env},
    );
    expect(shown.body.disk.mechanism).toBe('loop');
    expect(shown.body.disk.limit).toBeGreaterThan(150 * MiB);
    expect(await fill(alice, 'alice', 150, 'bigger')).toMatch(/No space left on device/);
  });

  it('grows a mounted home that no session holds at once (the session removed)', async () => {
    expect((await sandbox.run(['session', 'rm', 'alice'], {env})).exitCode).toBe(0);
    const home = path.join(sandbox.workspaceRoot, 'alice');
    expect((await execa('findmnt', ['-n', '-o', 'FSTYPE', home])).stdout.trim()).toBe('ext4');
    const raised = await sandbox.json<{warnings: string[]}>(['user', 'set', 'alice', '--quota', '400m'], {
      env,
    });
    expect(raised.exitCode, JSON.stringify(raised.body)).toBe(0);
    expect(raised.body.warnings.join('\n')).not.toMatch(/could not grow/);
    const alice = (await sandbox.json<Created>(['session', 'create', 'alice', '--no-gpu'], {env})).body;
    expect(await fill(alice, 'alice', 250, 'bigger')).toMatch(/262144000 bytes .* copied[\s\S]*rc=0/);
  });
});
