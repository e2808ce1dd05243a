import {chmod, lstat, readlink, rm, stat, symlink} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN} from '../helpers/constants.js';
import {createSandbox, type CliResult, type Sandbox} from '../helpers/sandbox.js';

/**
 * sandman as a local account that is not root (issue 36): what it may see, and the message for
 * what it may not; and the workspace entrypoint, run as container root, in a home the user controls.
 */
const NOBODY = 65534;
/** A group made for this file: the state file's group (apiSocketGroup). */
const GROUP = 'sm36reader';
let gid: number;
let sandbox: Sandbox;

beforeAll(async () => {
  await execa('groupdel', [GROUP], {reject: false});
  await execa('groupadd', [GROUP]);
  gid = Number((await execa('getent', ['group', GROUP])).stdout.split(':')[2]);
  sandbox = createSandbox({portStart: 36_600, portCount: 50, config: {apiSocketGroup: GROUP}});
  // mkdtemp made it 0700: other accounts may pass through, as through /var/lib/sandman.
  await chmod(sandbox.dir, 0o755);
  const created = await sandbox.run(['session', 'create', 'nora', '--no-gpu']);
  expect(created.exitCode, created.stderr).toBe(0);
});
afterAll(async () => {
  await sandbox?.cleanup();
  await execa('groupdel', [GROUP], {reject: false});
});

/** The built CLI as nobody, alone or with the state file's group. */
async function asNobody(args: string[], options: {inGroup?: boolean} = {}): Promise<CliResult> {
  const groups = options.inGroup ? [`--groups=${gid}`] : ['--clear-groups'];
  const result = await execa(
    'setpriv',
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, ...groups, 'node', BIN, ...args],
    {env: {...sandbox.env, HOME: '/nonexistent'}, reject: false, stdin: 'ignore', timeout: 120_000},
  );
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)};
}

describe('as an account that is not root', () => {
  it('prints the known_hosts line: the CA public key suffices', async () => {
    const asRoot = await sandbox.run(['known-hosts']);
    expect(asRoot.exitCode).toBe(0);
    const result = await asNobody(['known-hosts']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(asRoot.stdout);
    expect(result.stdout).toMatch(/^@cert-authority 127\.0\.0\.1,\S+ ssh-ed25519 /);
  });

  it('keeps the state file 0640 root:apiSocketGroup; others are told to run as root or join the group', async () => {
    const {mode, uid, gid: group} = await stat(sandbox.stateFile);
    expect({mode: mode & 0o777, uid, group}).toEqual({mode: 0o640, uid: 0, group: gid});
    for (const args of [
      ['session', 'ls'],
      ['session', 'show', 'nora'],
      ['user', 'ls'],
    ]) {
      const refused = await asNobody(args);
      expect(refused.stderr).toContain(`${sandbox.stateFile}: EACCES`);
      expect(refused.stderr).toContain(`run as root or join group ${GROUP}`);
      expect(refused.exitCode).toBe(7);
    }
    const member = await asNobody(['session', 'ls'], {inGroup: true});
    expect(member.exitCode, member.stderr).toBe(0);
    expect(member.stdout).toMatch(/^\S+\s+nora\s/m);
  });

  it('says usage cannot read the audit log (exit 7) rather than printing part of it', async () => {
    const asRoot = await sandbox.run(['usage', '--since', '1h']);
    expect(asRoot.stdout).toMatch(/^nora\s+1\s/m);
    const result = await asNobody(['usage', '--since', '1h'], {inGroup: true});
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`cannot read the audit log ${path.join(sandbox.dir, 'audit.jsonl')}`);
    expect(result.exitCode).toBe(7);
  });

  it('says the Docker socket refused it, not that dockerd is down', async () => {
    const result = await asNobody(['session', 'stop', 'nora'], {inGroup: true});
    expect(result.stderr).not.toContain('is dockerd running');
    expect(result.stderr).toMatch(/permission denied on \/var\/run\/docker\.sock .*run as root/);
    expect(result.exitCode).toBe(6);
    expect((await sandbox.json<{status: string}>(['session', 'show', 'nora'])).body.status).toBe('running');
  });
});

describe('the workspace entrypoint in a home the user controls', () => {
  it('follows none of her links as root when it gives the home its dotfiles', async () => {
    const home = path.join(sandbox.workspaceRoot, 'nora');
    const {uid} = await stat(home);
    // A new home gets /etc/skel's dotfiles, hers.
    for (const name of ['.profile', '.bashrc']) {
      const entry = await lstat(path.join(home, name));
      expect({file: entry.isFile(), uid: entry.uid}).toEqual({file: true, uid});
    }
    expect((await sandbox.run(['session', 'rm', 'nora'])).exitCode).toBe(0);
    // A home without .profile gets /etc/skel's dotfiles at the next start: she plants links instead.
    for (const name of ['.profile', '.bashrc', '.bash_logout'])
      await rm(path.join(home, name), {force: true});
    await symlink('/etc/shadow', path.join(home, '.bashrc'));
    await symlink('/etc/profile.d/zz-planted.sh', path.join(home, '.bash_logout'));
    await execa('chown', [
      '-h',
      `${uid}:${uid}`,
      path.join(home, '.bashrc'),
      path.join(home, '.bash_logout'),
    ]);
    // POSIXLY_CORRECT: GNU cp then writes through a dangling link, as POSIX has it.
    const created = await sandbox.json<{container_id: string}>([
      'session',
      'create',
      'nora',
      '--no-gpu',
      '--env',
      'POSIXLY_CORRECT=1',
    ]);
    expect(created.exitCode, created.stderr).toBe(0);
    const inside = (user: string, command: string) =>
      execa('docker', ['exec', '-u', user, created.body.container_id, 'sh', '-c', command], {reject: false});
    expect((await inside('0', 'stat -c %u:%g:%a /etc/shadow')).stdout).toBe('0:42:640');
    expect((await inside('0', 'ls /etc/profile.d/zz-planted.sh')).exitCode).not.toBe(0);
    expect((await inside(String(uid), 'cat /home/nora/.bashrc')).exitCode).not.toBe(0);
    expect(await readlink(path.join(home, '.bashrc'))).toBe('/etc/shadow');
    expect(await readlink(path.join(home, '.bash_logout'))).toBe('/etc/profile.d/zz-planted.sh');
    expect((await lstat(path.join(home, '.profile'))).uid).toBe(uid);
  });
});
