import {readFile, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {LABELS} from '../../src/core/labels.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';

interface Created {
  session_id: string;
  container_id: string;
  ssh_user: string;
  ssh_host: string;
  ssh_port: number;
  ssh_command: string;
  ssh_private_key: string | null;
  ssh_private_key_path: string | null;
  gpu_uuid: string | null;
  mig_profile: string | null;
  workspace: string;
  uid: number;
  created_at: string;
  expires_at: string;
}

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 32_000});
});
afterAll(async () => {
  await sandbox.cleanup();
});

describe('a session from create to rm, over real SSH', () => {
  it('creates alice, logs in as alice in her home, keeps her files across sessions', async () => {
    const first = await sandbox.json<Created>(['session', 'create', 'alice', '--no-gpu', '--ttl', '2h']);
    expect(first.exitCode).toBe(0);
    const session = first.body;
    expect(session).toMatchObject({
      ssh_user: 'alice',
      ssh_host: '127.0.0.1',
      gpu_uuid: null,
      mig_profile: null,
    });
    expect(session.session_id).toMatch(/^[0-9a-f]{12}$/);
    expect(session.ssh_command).toBe(
      `ssh -i ${session.ssh_private_key_path} -p ${session.ssh_port} alice@127.0.0.1`,
    );
    expect(Date.parse(session.expires_at) - Date.parse(session.created_at)).toBe(2 * 3_600_000);
    expect(session.workspace).toBe(path.join(sandbox.workspaceRoot, 'alice'));

    // The private key: 0600 in <stateDir>/keys/<id>, directory 0700, same bytes as the JSON.
    const keyPath = session.ssh_private_key_path!;
    expect(keyPath).toBe(path.join(sandbox.keysDir, session.session_id));
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect((await stat(sandbox.keysDir)).mode & 0o777).toBe(0o700);
    expect(await readFile(keyPath, 'utf8')).toBe(session.ssh_private_key);

    const login = await sshRun(
      keyPath,
      session.ssh_port,
      'alice',
      'id -un; id -u; echo $HOME; pwd; echo kept > ~/notes.txt',
    );
    expect(login.stderr).toBe('');
    expect(login.stdout.split('\n')).toEqual(['alice', String(session.uid), '/home/alice', '/home/alice']);

    // Workspace on the host: owned by alice's uid, 0700.
    const workspace = await stat(session.workspace);
    expect(workspace.uid).toBe(session.uid);
    expect(workspace.mode & 0o777).toBe(0o700);

    // The container: name, labels, network, published port.
    const inspect = JSON.parse((await execa('docker', ['inspect', session.container_id])).stdout)[0];
    expect(inspect.Name).toBe(`/sandman-alice-${session.session_id}`);
    expect(inspect.Config.Labels).toMatchObject({
      [LABELS.session]: session.session_id,
      [LABELS.user]: 'alice',
      [LABELS.expiresAt]: session.expires_at,
      [LABELS.instance]: sandbox.instance,
    });
    expect(Object.keys(inspect.NetworkSettings.Networks)).toEqual([sandbox.network]);
    expect(inspect.HostConfig.PortBindings['22/tcp']).toEqual([
      {HostIp: '127.0.0.1', HostPort: String(session.ssh_port)},
    ]);
    const network = JSON.parse((await execa('docker', ['network', 'inspect', sandbox.network])).stdout)[0];
    expect(network.Options['com.docker.network.bridge.enable_icc']).toBe('false');

    const removed = await sandbox.json<{removed: Array<{session_id: string}>}>(['session', 'rm', 'alice']);
    expect(removed.exitCode).toBe(0);
    expect(removed.body.removed.map((s) => s.session_id)).toEqual([session.session_id]);
    expect(await sandbox.containers()).toEqual([]);
    expect(await sandbox.keyFiles()).toEqual([]);
    expect(await readFile(path.join(session.workspace, 'notes.txt'), 'utf8')).toBe('kept\n');

    const second = await sandbox.json<Created>(['session', 'create', 'alice', '--no-gpu']);
    expect(second.exitCode).toBe(0);
    expect(second.body.session_id).not.toBe(session.session_id);
    expect(second.body.uid).toBe(session.uid);
    const again = await sshRun(
      second.body.ssh_private_key_path!,
      second.body.ssh_port,
      'alice',
      'cat ~/notes.txt',
    );
    expect(again.stdout).toBe('kept');
    // The first session's key no longer opens anything.
    await writeFile(path.join(sandbox.dir, 'old-key'), session.ssh_private_key!, {mode: 0o600});
    const oldKey = await sshRun(path.join(sandbox.dir, 'old-key'), second.body.ssh_port, 'alice', 'true');
    expect(oldKey.exitCode).toBe(255);
    expect((await sandbox.run(['session', 'rm', second.body.session_id])).exitCode).toBe(0);
  });

  it('shows the login banner with the GPU and expiry to interactive logins', async () => {
    const created = await sandbox.json<Created>([
      'session',
      'create',
      'bannerbob',
      '--no-gpu',
      '--ttl',
      '90m',
    ]);
    expect(created.exitCode).toBe(0);
    const {ssh_private_key_path: key, ssh_port: port, expires_at: expires} = created.body;
    const motd = await sshRun(key!, port, 'bannerbob', 'cat /etc/motd');
    expect(motd.stdout).toContain(`sandman session ${created.body.session_id} for bannerbob`);
    expect(motd.stdout).toContain('GPU      none');
    expect(motd.stdout).toContain(`Expires  ${expires.replace('T', ' ').slice(0, 16)} UTC`);
    expect((await sandbox.run(['session', 'rm', 'bannerbob'])).exitCode).toBe(0);
  });

  it('lists, shows and extends sessions, by ID, prefix and user', async () => {
    const created = await sandbox.json<Created>(['session', 'create', 'lister', '--no-gpu', '--ttl', '30']);
    expect(created.exitCode).toBe(0);
    const id = created.body.session_id;

    const table = await sandbox.run(['session', 'ls']);
    expect(table.exitCode).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID\s+USER\s+STATUS\s+GPU\s+PORT\s+CREATED\s+EXPIRES\s+IDLE$/,
    );
    expect(table.stdout).toMatch(
      new RegExp(`${id}\\s+lister\\s+running\\s+none\\s+${created.body.ssh_port}\\s+`),
    );

    const quiet = await sandbox.run(['session', 'ls', '-q']);
    expect(quiet.stdout.trim().split('\n')).toEqual([id]);
    const listed = await sandbox.json<Created[]>(['session', 'ls', '--user', 'lister']);
    expect(listed.body.map((s) => s.session_id)).toEqual([id]);
    expect(listed.body[0]).not.toHaveProperty('ssh_private_key');
    expect((await sandbox.json<Created[]>(['session', 'ls', '--user', 'nobody-here'])).body).toEqual([]);

    const shown = await sandbox.json<Created>(['session', 'show', id.slice(0, 5)]);
    expect(shown.body).toMatchObject({session_id: id, ssh_user: 'lister', ssh_port: created.body.ssh_port});
    const human = await sandbox.run(['session', 'show', 'lister']);
    expect(human.stdout).toMatch(/^ID:\s+[0-9a-f]{12}$/m);
    expect(human.stdout).toContain(`Connect:    ${created.body.ssh_command}`);

    const extended = await sandbox.json<Created>(['session', 'extend', 'lister', '--ttl', '1h']);
    expect(extended.exitCode).toBe(0);
    expect(Date.parse(extended.body.expires_at) - Date.parse(created.body.expires_at)).toBe(3_600_000);
    const state = JSON.parse(await readFile(sandbox.stateFile, 'utf8'));
    expect(state.sessions[0].expires_at).toBe(extended.body.expires_at);
    // The banner inside follows the new expiry.
    const motd = await sshRun(
      created.body.ssh_private_key_path!,
      created.body.ssh_port,
      'lister',
      'cat /etc/motd',
    );
    expect(motd.stdout).toContain(extended.body.expires_at.replace('T', ' ').slice(0, 16));

    const tooFar = await sandbox.json(['session', 'extend', 'lister', '--ttl', '8d']);
    expect(tooFar.exitCode).toBe(2);
    expect(tooFar.body).toMatchObject({error: {code: 'INVALID_INPUT', exit_code: 2}});
    expect(JSON.stringify(tooFar.body)).toContain('maxTtl');

    expect((await sandbox.run(['session', 'rm', id])).exitCode).toBe(0);
  });

  it('installs the user’s own public key from a file or stdin, and makes no private key', async () => {
    const keyFile = path.join(sandbox.dir, 'own');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'carol@laptop', '-f', keyFile]);
    const publicKey = await readFile(`${keyFile}.pub`, 'utf8');

    const fromStdin = await sandbox.run(
      ['session', 'create', 'carol', '--no-gpu', '--ssh-key', '-', '--json'],
      {
        input: publicKey,
      },
    );
    expect(fromStdin.exitCode).toBe(0);
    const session = JSON.parse(fromStdin.stdout) as Created;
    expect(session.ssh_private_key).toBeNull();
    expect(session.ssh_private_key_path).toBeNull();
    expect(session.ssh_command).toBe(`ssh -p ${session.ssh_port} carol@127.0.0.1`);
    // No private key on the host: only the session's host key and session files directories.
    expect((await sandbox.keyFiles()).sort()).toEqual([
      `${session.session_id}.host`,
      `${session.session_id}.session`,
    ]);
    expect((await sshRun(keyFile, session.ssh_port, 'carol', 'id -un')).stdout).toBe('carol');
    expect((await sandbox.run(['session', 'rm', 'carol'])).exitCode).toBe(0);

    const fromFile = await sandbox.json<Created>([
      'session',
      'create',
      'carol',
      '--no-gpu',
      '--ssh-key',
      `${keyFile}.pub`,
    ]);
    expect(fromFile.exitCode).toBe(0);
    expect((await sshRun(keyFile, fromFile.body.ssh_port, 'carol', 'id -un')).stdout).toBe('carol');
    expect((await sandbox.run(['session', 'rm', 'carol'])).exitCode).toBe(0);
  });

  it('allows password login only with --password, printing a password that is never stored', async () => {
    const created = await sandbox.json<Created & {ssh_password: string}>([
      'session',
      'create',
      'dave',
      '--no-gpu',
      '--password',
    ]);
    expect(created.exitCode).toBe(0);
    const password = created.body.ssh_password;
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await readFile(sandbox.stateFile, 'utf8')).not.toContain(password);
    const inspect = (await execa('docker', ['inspect', created.body.container_id])).stdout;
    expect(inspect).not.toContain(password);

    // Real OpenSSH client, password typed through SSH_ASKPASS.
    const askpass = path.join(sandbox.dir, 'askpass.sh');
    await writeFile(askpass, `#!/bin/sh\necho '${password}'\n`, {mode: 0o700});
    const login = await execa(
      'ssh',
      [
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PreferredAuthentications=password',
        '-o',
        'NumberOfPasswordPrompts=1',
        '-p',
        String(created.body.ssh_port),
        'dave@127.0.0.1',
        'id -un',
      ],
      {
        reject: false,
        stdin: 'ignore',
        env: {SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0'},
      },
    );
    expect(login.stdout).toBe('dave');
    expect((await sandbox.run(['session', 'rm', 'dave'])).exitCode).toBe(0);

    // Without --password the same kind of login is refused.
    const keyOnly = await sandbox.json<Created>(['session', 'create', 'dave', '--no-gpu']);
    const refused = await execa(
      'ssh',
      [
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
        '-o',
        'PubkeyAuthentication=no',
        '-o',
        'PreferredAuthentications=password,keyboard-interactive',
        '-p',
        String(keyOnly.body.ssh_port),
        'dave@127.0.0.1',
        'true',
      ],
      {
        reject: false,
        stdin: 'ignore',
        env: {SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0'},
      },
    );
    expect(refused.exitCode).toBe(255);
    expect(refused.stderr).toContain('Permission denied');
    expect((await sandbox.run(['session', 'rm', 'dave'])).exitCode).toBe(0);
  });

  it('runs the container locked down: no capabilities for the user, no new privileges, limits applied', async () => {
    const created = await sandbox.json<Created>([
      'session',
      'create',
      'erin',
      '--no-gpu',
      '--pids',
      '256',
      '--memory',
      '512m',
      '--cpus',
      '1.5',
      '--env',
      'PROJECT=demo run',
      '--env',
      'DATA_DIR=/data',
    ]);
    expect(created.exitCode).toBe(0);
    const {ssh_private_key_path: key, ssh_port: port, container_id: id, session_id: sessionId} = created.body;
    const status = await sshRun(
      key!,
      port,
      'erin',
      'grep -E "^(CapEff|CapPrm|NoNewPrivs)" /proc/self/status; echo "$PROJECT|$DATA_DIR"',
    );
    expect(status.stdout).toContain('CapEff:\t0000000000000000');
    expect(status.stdout).toContain('CapPrm:\t0000000000000000');
    expect(status.stdout).toContain('NoNewPrivs:\t1');
    expect(status.stdout).toContain('demo run|/data');
    const su = await sshRun(key!, port, 'erin', 'su -c id root </dev/null; echo "su=$?"');
    expect(su.stdout).toMatch(/su=[1-9]/);

    const host = JSON.parse((await execa('docker', ['inspect', id])).stdout)[0].HostConfig;
    expect(host.CapDrop).toEqual(['ALL']);
    expect(host.Privileged).toBe(false);
    expect(host.SecurityOpt).toEqual(['no-new-privileges:true']);
    expect(host.PidsLimit).toBe(256);
    expect(host.Memory).toBe(512 * 1024 * 1024);
    expect(host.NanoCpus).toBe(1.5e9);
    const mounts = JSON.parse((await execa('docker', ['inspect', '-f', '{{json .Mounts}}', id])).stdout);
    // The home, and read-only the session's host key and session files directories: nothing else
    // of the host. (The engine lists mounts from a map, in no fixed order.)
    expect(mounts).toHaveLength(3);
    expect(mounts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Type: 'bind',
          Source: path.join(sandbox.workspaceRoot, 'erin'),
          Destination: '/home/erin',
          RW: true,
        }),
        expect.objectContaining({
          Type: 'bind',
          Source: path.join(sandbox.keysDir, `${sessionId}.host`),
          Destination: '/etc/ssh/sandman',
          RW: false,
        }),
        expect.objectContaining({
          Type: 'bind',
          Source: path.join(sandbox.keysDir, `${sessionId}.session`),
          Destination: '/etc/sandman/session',
          RW: false,
        }),
      ]),
    );
    expect((await sandbox.run(['session', 'rm', 'erin'])).exitCode).toBe(0);
  });

  it('rm --all asks for --yes without a terminal, then removes every session', async () => {
    for (const user of ['fay', 'gus']) {
      expect((await sandbox.run(['session', 'create', user, '--no-gpu', '--no-wait'])).exitCode).toBe(0);
    }
    const refused = await sandbox.run(['session', 'rm', '--all']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(await sandbox.containers()).toHaveLength(2);

    const removed = await sandbox.json<{removed: unknown[]}>(['session', 'rm', '--all', '--yes']);
    expect(removed.exitCode).toBe(0);
    expect(removed.body.removed).toHaveLength(2);
    expect(await sandbox.containers()).toEqual([]);
    expect((await sandbox.json<unknown[]>(['session', 'ls'])).body).toEqual([]);
  });
});
