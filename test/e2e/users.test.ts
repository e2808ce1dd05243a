import {appendFile, mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

/**
 * Users as records (docs/admin/users-and-limits.md "Users and limits"): registered public keys open their sessions (real
 * OpenSSH), their defaults and limits apply, and every refusal is exit 8 with the numbers.
 */
let sandbox: Sandbox;
let keys: string;
beforeAll(async () => {
  sandbox = createSandbox({
    portStart: 34_800,
    portCount: 20,
    config: {groups: {students: {allowedProfiles: ['1g.5gb'], gpuHourBudget: '1h/7d', userMaxTtl: '3h'}}},
  });
  keys = path.join(sandbox.dir, 'keys');
  await mkdir(keys);
  for (const name of ['laptop', 'desktop', 'other'])
    await execa('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      `alice@${name}`,
      '-f',
      path.join(keys, name),
    ]);
});
afterAll(async () => {
  await sandbox.cleanup();
});

interface Created {
  session_id: string;
  ssh_port: number;
  ssh_private_key: string | null;
  ssh_private_key_path: string | null;
}

const login = (key: string, port: number) => sshRun(path.join(keys, key), port, 'alice', 'id -un');

describe('registered users', () => {
  it('log in with any of their registered keys; no private key is made; a removed key stops at the next session', async () => {
    const added = await sandbox.json<{keys: Array<{fingerprint: string}>}>([
      'user',
      'add',
      'alice',
      '--ssh-key',
      path.join(keys, 'laptop.pub'),
      '--ssh-key',
      path.join(keys, 'desktop.pub'),
      '--no-gpu',
      '--ttl',
      '90m',
    ]);
    expect(added.exitCode, JSON.stringify(added.body)).toBe(0);
    // The fingerprints are the ones ssh-keygen prints.
    const laptop = String((await execa('ssh-keygen', ['-lf', path.join(keys, 'laptop.pub')])).stdout).split(
      ' ',
    )[1];
    expect(added.body.keys.map((key) => key.fingerprint)).toContain(laptop);

    const first = await sandbox.json<Created>(['session', 'create', 'alice']);
    expect(first.exitCode).toBe(0);
    expect([first.body.ssh_private_key, first.body.ssh_private_key_path]).toEqual([null, null]);
    // No private key on the host: only the session's host key and session files directories.
    expect((await sandbox.keyFiles()).sort()).toEqual([
      `${first.body.session_id}.host`,
      `${first.body.session_id}.session`,
    ]);
    for (const key of ['laptop', 'desktop'])
      expect((await login(key, first.body.ssh_port)).stdout, key).toBe('alice');
    expect((await login('other', first.body.ssh_port)).exitCode).not.toBe(0);
    const record = (await readState(sandbox.stateFile)).sessions[0]!;
    expect(Date.parse(record.expires_at) - Date.parse(record.created_at)).toBe(90 * 60_000);
    expect(record.gpu_uuid).toBeNull();
    expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);

    expect((await sandbox.run(['user', 'key', 'rm', 'alice', laptop!])).exitCode).toBe(0);
    const second = await sandbox.json<Created>(['session', 'create', 'alice']);
    expect((await login('laptop', second.body.ssh_port)).exitCode).not.toBe(0);
    expect((await login('desktop', second.body.ssh_port)).stdout).toBe('alice');
    expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
  });

  it('a bad key file is exit 2 naming the line; nothing is written', async () => {
    const bad = path.join(sandbox.dir, 'bad.pub');
    await writeFile(
      bad,
      `${await readFile(path.join(keys, 'other.pub'), 'utf8')}ssh-ed25519 not-base64 x@y\n`,
    );
    const before = await readFile(sandbox.stateFile, 'utf8');
    const result = await sandbox.json<{error: {message: string}}>(['user', 'add', 'bert', '--ssh-key', bad]);
    expect(result.exitCode).toBe(2);
    expect(result.body.error.message).toBe(
      `key file ${bad}: line 2 is not an OpenSSH public key (expected e.g. "ssh-ed25519 AAAA... user@host")`,
    );
    const privateKey = await sandbox.json<{error: {message: string}}>([
      'user',
      'key',
      'add',
      'alice',
      path.join(keys, 'other'),
    ]);
    expect(privateKey.exitCode).toBe(2);
    expect(privateKey.body.error.message).toContain('holds a PRIVATE key');
    expect(await readFile(sandbox.stateFile, 'utf8')).toBe(before);
  });

  it('group limits refuse with exit 8 and the numbers, reserving nothing; user show says where each came from', async () => {
    const gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
    expect((await sandbox.run(['user', 'add', 'stu', '--group', 'students'])).exitCode).toBe(0);
    const shown = await sandbox.run(['user', 'show', 'stu'], {env: gpu});
    expect(shown.stdout).toMatch(/^Limits: +sessions 1 \(setting\)$/m);
    expect(shown.stdout).toMatch(/^ +profiles 1g\.5gb \(group students\)$/m);
    expect(shown.stdout).toMatch(/^GPU-hours: +0\.00 of 1 used in the last 7d, 1\.00 left$/m);

    const profile = await sandbox.json<{error: {code: string; message: string}}>(
      ['session', 'create', 'stu', '--profile', '4g.20gb'],
      {env: gpu},
    );
    expect([profile.exitCode, profile.body.error.code]).toEqual([8, 'POLICY']);
    expect(profile.body.error.message).toBe(
      'stu may use 1g.5gb (allowedProfiles, from group students); asked for MIG 4g.20gb',
    );
    const ttl = await sandbox.json<{error: {message: string}}>([
      'session',
      'create',
      'stu',
      '--no-gpu',
      '--ttl',
      '4h',
    ]);
    expect(ttl.exitCode).toBe(8);

    // 2 h of a 3g.20gb slice on a 7-slice A100 yesterday: 2 × 3/7 = 0.857 GPU-hours; then 1 h
    // of a whole GPU: 1.857 in all, over the 1 h budget.
    const now = Date.now();
    const at = (hoursAgo: number) =>
      new Date(now - hoursAgo * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const lines = [
      {
        time: at(30),
        action: 'create',
        session: 'aaaaaaaaaaa1',
        user: 'stu',
        result: 'ok',
        gpu_uuid: 'MIG-x',
        mig_profile: '3g.20gb',
        gpu_fraction: 3 / 7,
        expires_at: at(20),
      },
      {time: at(28), action: 'rm', session: 'aaaaaaaaaaa1', user: 'stu', result: 'ok'},
      {
        time: at(10),
        action: 'create',
        session: 'aaaaaaaaaaa2',
        user: 'stu',
        result: 'ok',
        gpu_uuid: 'GPU-y',
        mig_profile: null,
        gpu_fraction: 1,
        expires_at: at(9),
      },
    ];
    await appendFile(
      sandbox.env.SANDMAN_AUDIT_LOG!,
      lines.map((line) => JSON.stringify({actor: 'root', ...line})).join('\n') + '\n',
    );
    const budget = await sandbox.json<{error: {message: string}}>(
      ['session', 'create', 'stu', '--profile', '1g.5gb'],
      {env: gpu},
    );
    expect(budget.exitCode).toBe(8);
    const leaves = new Date(Date.parse(at(30)) + 7 * 86_400_000).toISOString().slice(0, 16).replace('T', ' ');
    expect(budget.body.error.message).toBe(
      `stu used 1.9 of 1 GPU-hours in the last 7d (gpuHourBudget, from group students); the oldest hour leaves ` +
        `the window at ${leaves} UTC; a session without a GPU (--no-gpu) is still possible`,
    );
    const used = await sandbox.json<{gpu_hours: {used: number; left: number}}>(['user', 'show', 'stu']);
    expect(used.body.gpu_hours.used).toBeCloseTo(2 * (3 / 7) + 1, 3);
    expect(used.body.gpu_hours.left).toBe(0);
    // usage by user shows each budget's use over its own window; the metrics file has it too.
    const usage = await sandbox.json<{budgets: Array<{user: string; used: number; budget: number}>}>([
      'usage',
    ]);
    expect(usage.body.budgets).toEqual([{user: 'stu', used: expect.closeTo(1.857, 3), budget: 1}]);
    expect((await sandbox.run(['usage'])).stdout).toMatch(/^stu +\d+ +[\d.]+ +1\.86 +1\.86\/1 h /m);
    const metrics = path.join(sandbox.dir, 'users.prom');
    await sandbox.run(['session', 'create', 'stu', '--no-gpu', '--no-wait'], {
      env: {SANDMAN_METRICS_FILE: metrics},
    });
    const text = await readFile(metrics, 'utf8');
    expect(text).toContain('sandman_gpu_budget_seconds{user="stu"} 3600');
    // 1.857 GPU-hours: 6686 GPU-seconds (2 h × 3/7 + 1 h, within a second of now's edges).
    expect(text).toMatch(/^sandman_gpu_budget_used_seconds\{user="stu"\} 668\d$/m);
    const check = await execa('promtool', ['check', 'metrics'], {input: text, reject: false});
    expect(check.exitCode, String(check.stdout) + String(check.stderr)).toBe(0);
    expect((await sandbox.run(['session', 'rm', 'stu'])).exitCode).toBe(0);
    // Nothing was reserved by any of the refusals.
    expect((await readState(sandbox.stateFile)).sessions).toEqual([]);
    expect(await sandbox.containers()).toEqual([]);
    const refusals = (await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {action: string; result: string; user: string})
      .filter((entry) => entry.action === 'create' && entry.result === 'failed' && entry.user === 'stu');
    expect(refusals).toHaveLength(3);
  });
});
