import {mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {TEST_BASE_IMAGE} from '../helpers/constants.js';
import {createSandbox, SSH_OPTIONS, sshRun, type Sandbox} from '../helpers/sandbox.js';

/**
 * The workspace image users can work in (docs/admin/install.md "Install on a GPU host"): the default tools, packages an
 * admin adds with the base's own package manager, and instructions appended from a file.
 */
const CUSTOM = 'sandman-test/custom-packages:latest';
let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 34_720, portCount: 10});
});
afterAll(async () => {
  await sandbox.cleanup();
  await execa('docker', ['rmi', '-f', CUSTOM], {reject: false});
});

interface Created {
  ssh_private_key_path: string;
  ssh_port: number;
}

/** An rsync -e ssh round trip: a tree up into the home, and back down, byte for byte. */
async function rsyncRoundTrip(session: Created, user: string): Promise<void> {
  const local = path.join(sandbox.dir, `rsync-${user}`);
  await mkdir(path.join(local, 'up', 'deep'), {recursive: true});
  await writeFile(path.join(local, 'up', 'deep', 'data.txt'), `payload for ${user}\n`);
  const ssh = [
    'ssh',
    ...SSH_OPTIONS,
    '-i',
    session.ssh_private_key_path,
    '-p',
    String(session.ssh_port),
  ].join(' ');
  const up = await execa('rsync', ['-a', '-e', ssh, `${local}/up/`, `${user}@127.0.0.1:project/`], {
    reject: false,
  });
  expect(up.exitCode, String(up.stderr)).toBe(0);
  const down = await execa('rsync', ['-a', '-e', ssh, `${user}@127.0.0.1:project/`, `${local}/down/`], {
    reject: false,
  });
  expect(down.exitCode, String(down.stderr)).toBe(0);
  expect(await readFile(path.join(local, 'down', 'deep', 'data.txt'), 'utf8')).toBe(`payload for ${user}\n`);
}

describe('the workspace image', () => {
  it('has the tools users need by default: rsync, curl, git, python3 with venv, tmux, less, a UTF-8 locale', async () => {
    const created = await sandbox.json<Created>(['session', 'create', 'toolbox', '--no-gpu']);
    expect(created.exitCode).toBe(0);
    const check = await sshRun(
      created.body.ssh_private_key_path,
      created.body.ssh_port,
      'toolbox',
      'for t in rsync curl git python3 tmux less; do command -v $t >/dev/null || echo "missing $t"; done; ' +
        'python3 -m venv ~/venv && ~/venv/bin/python -c "import sys; print(sys.prefix)"; locale -a | grep -i "^en_US.utf-*8$"; echo "LANG=$LANG"',
      ['-o', 'SendEnv=-LANG'],
    );
    expect(check.stderr).toBe('');
    expect(check.stdout.split('\n')).toEqual(['/home/toolbox/venv', 'en_US.utf8', 'LANG=C.UTF-8']);
    await rsyncRoundTrip(created.body, 'toolbox');
    expect((await sandbox.run(['session', 'rm', 'toolbox'])).exitCode).toBe(0);
  });

  it('image build --packages installs with the base’s package manager; --dockerfile appends instructions', async () => {
    const extra = path.join(sandbox.dir, 'site.dockerfile');
    await writeFile(extra, 'RUN echo "site tools" > /etc/site-tools\nENV SITE_TOOLS=1\n');
    const built = await sandbox.json<{packages: string[]}>([
      'image',
      'build',
      '--base',
      TEST_BASE_IMAGE,
      '--tag',
      CUSTOM,
      '--no-default-packages',
      '--packages',
      'rsync',
      '--dockerfile',
      extra,
    ]);
    expect(built.exitCode, JSON.stringify(built.body)).toBe(0);
    expect(built.body.packages).toEqual(['rsync']);

    const created = await sandbox.json<Created>([
      'session',
      'create',
      'packer',
      '--no-gpu',
      '--image',
      CUSTOM,
    ]);
    expect(created.exitCode).toBe(0);
    const check = await sshRun(
      created.body.ssh_private_key_path,
      created.body.ssh_port,
      'packer',
      'command -v rsync; command -v tmux || echo "no tmux"; cat /etc/site-tools',
    );
    expect(check.stdout.split('\n')).toEqual(['/usr/bin/rsync', 'no tmux', 'site tools']);
    await rsyncRoundTrip(created.body, 'packer');
    expect((await sandbox.run(['session', 'rm', 'packer'])).exitCode).toBe(0);
  });

  it('refuses a package name a shell would read as more, and a --dockerfile with its own FROM (exit 2)', async () => {
    const bad = await sandbox.json<{error: {message: string}}>([
      'image',
      'build',
      '--tag',
      'sandman-test/never:built',
      '--packages',
      'rsync; rm -rf /',
    ]);
    expect(bad.exitCode).toBe(2);
    expect(bad.body.error.message).toContain('invalid --packages entry "rsync;"');
    const from = path.join(sandbox.dir, 'from.dockerfile');
    await writeFile(from, 'RUN true\nFROM debian:bookworm\n');
    const refused = await sandbox.json<{error: {message: string}}>([
      'image',
      'build',
      '--tag',
      'sandman-test/never:built',
      '--dockerfile',
      from,
    ]);
    expect(refused.exitCode).toBe(2);
    expect(refused.body.error.message).toContain(`${from}:2: a FROM would start another image`);
  });
});
