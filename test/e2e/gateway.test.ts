import {mkdir, readdir, readFile, stat, writeFile} from 'node:fs/promises';
import {connect} from 'node:net';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {GatewayUnderTest, gatewaySsh} from '../helpers/gateway.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';
import {Terminal} from '../helpers/tmux.js';

/**
 * The SSH gateway (docs/admin/gateway.md "The SSH gateway") with the real OpenSSH client, under real systemd
 * socket activation: one address for every user, their session started on connect, everything
 * relayed as on the session's own port, and the same denial for every wrong login.
 */
const GATEWAY_PORT = 35_100;
let sandbox: Sandbox;
let gateway: GatewayUnderTest;
let keys: string;
let knownHosts: string;
const key = (name: string) => path.join(keys, name);
/** The OpenSSH options of a user who trusts this host through its known-hosts line only. */
const strict = () => [
  '-o',
  'StrictHostKeyChecking=yes',
  '-o',
  `UserKnownHostsFile=${knownHosts}`,
  '-o',
  'BatchMode=yes',
];
const ssh = (user: string, command: string, options: {key?: string; extra?: string[]} = {}) =>
  gatewaySsh(GATEWAY_PORT, user, command, {knownHosts, key: key('alice'), ...options});

interface AuditLine {
  action: string;
  user: string | null;
  result: string;
  reason?: string;
  source?: string;
}
const auditLines = async (): Promise<AuditLine[]> =>
  (await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine);

beforeAll(async () => {
  sandbox = createSandbox({portStart: 35_000, portCount: 30});
  keys = path.join(sandbox.dir, 'keys');
  await mkdir(keys);
  for (const name of ['alice', 'bob', 'stranger'])
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@laptop`, '-f', key(name)]);
  for (const name of ['alice', 'bob'])
    expect(
      (await sandbox.run(['user', 'add', name, '--ssh-key', key(`${name}.pub`), '--no-gpu'])).exitCode,
    ).toBe(0);
  knownHosts = path.join(sandbox.dir, 'known_hosts');
  const lines = await sandbox.run(['known-hosts']);
  await writeFile(knownHosts, lines.stdout + '\n');
  gateway = await GatewayUnderTest.start(sandbox, GATEWAY_PORT, {SANDMAN_GATEWAY_LOGIN_TIMEOUT: '3s'});
});
afterAll(async () => {
  await gateway?.stop();
  await sandbox.cleanup();
});

describe('ssh -p PORT alice@host', () => {
  it('starts her session on the first connection and reaches the same one afterwards, under strict host key checking', async () => {
    const first = await ssh('alice', 'id -un');
    expect(first.stdout.trim(), first.stderr + gateway.log()).toBe('alice');
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toMatch(/starting your session \(no GPU\)/);
    expect(first.stderr).toMatch(/session [0-9a-f]{12} is ready: no GPU, until \d\d:\d\d UTC/);
    const created = (await readState(sandbox.stateFile)).sessions;
    expect(created).toHaveLength(1);

    const again = await ssh('alice', 'hostname; cat /proc/1/cpuset >/dev/null; echo $SANDMAN_SESSION_ID');
    expect(again.exitCode).toBe(0);
    expect(again.stderr).not.toMatch(/starting/);
    const state = await readState(sandbox.stateFile);
    expect(state.sessions.map((session) => session.container_id)).toEqual([created[0]!.container_id]);
    expect(again.stdout).toContain('sandman-alice');
    const audit = await auditLines();
    expect(audit.filter((line) => line.action === 'create' && line.result === 'ok')).toHaveLength(1);
    expect(audit.filter((line) => line.action === 'gateway-login' && line.result === 'ok')).toEqual([
      expect.objectContaining({user: 'alice', source: '127.0.0.1'}),
      expect.objectContaining({user: 'alice', source: '127.0.0.1'}),
    ]);
  });

  it('relays exit codes, the environment and a pty', async () => {
    expect((await ssh('alice', 'exit 7')).exitCode).toBe(7);
    // SendEnv takes the value from ssh's own environment: set for this one call.
    const paper = await execa(
      'ssh',
      [
        '-o',
        'SendEnv=LC_PAPER',
        ...strict(),
        '-i',
        key('alice'),
        '-p',
        String(GATEWAY_PORT),
        'alice@127.0.0.1',
        'echo "paper=$LC_PAPER"',
      ],
      {reject: false, env: {LC_PAPER: 'en_GB.UTF-8'}, stdin: 'ignore'},
    );
    expect(paper.stdout.trim()).toBe('paper=en_GB.UTF-8');
    const tty = await ssh('alice', 'tty', {extra: ['-tt']});
    expect(tty.stdout.trim()).toMatch(/^\/dev\/pts\/\d+$/);
    // Remote forwarding stays off, as on the session's own port.
    const remote = await ssh('alice', 'true', {
      extra: ['-R', '35191:127.0.0.1:22', '-o', 'ExitOnForwardFailure=yes'],
    });
    expect(remote.exitCode).toBe(255);
    expect(remote.stderr).toMatch(/remote port forwarding failed/);
  });

  it('follows a terminal resize (tmux) and delivers Ctrl-C to the remote command', async () => {
    const terminal = await Terminal.start(
      `ssh -tt -i ${key('alice')} -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts} -o BatchMode=yes -p ${GATEWAY_PORT} alice@127.0.0.1`,
      {},
    );
    try {
      await terminal.waitFor(/~\$\s*$/m, 30_000);
      await terminal.type('stty size\n');
      await terminal.waitFor(/^50 160\s*$/m);
      await execa('tmux', ['resize-window', '-t', terminal.name, '-x', '100', '-y', '30']);
      await sleep(300);
      await terminal.type('stty size\n');
      await terminal.waitFor(/^30 100\s*$/m);
      await terminal.type('sleep 100; echo after=$?\n');
      await sleep(500);
      await terminal.keys('C-c');
      await terminal.type('echo interrupted=$?\n');
      await terminal.waitFor(/^interrupted=130\s*$/m);
      await terminal.type('exit 3\n');
      await terminal.waitFor(/^EXIT=3\s*$/m);
    } finally {
      await terminal.close();
    }
  });

  it('carries scp and sftp both ways', async () => {
    const local = path.join(sandbox.dir, 'notes.txt');
    await writeFile(local, 'through the gateway\n');
    const scp = await execa(
      'scp',
      ['-i', key('alice'), ...strict(), '-P', String(GATEWAY_PORT), local, 'alice@127.0.0.1:notes.txt'],
      {reject: false},
    );
    expect(scp.exitCode, scp.stderr).toBe(0);
    const back = path.join(sandbox.dir, 'back.txt');
    const sftp = await execa(
      'sftp',
      ['-i', key('alice'), ...strict(), '-P', String(GATEWAY_PORT), 'alice@127.0.0.1'],
      {reject: false, input: `get notes.txt ${back}\n`},
    );
    expect(sftp.exitCode, sftp.stderr).toBe(0);
    expect(await readFile(back, 'utf8')).toBe('through the gateway\n');
  });

  it('forwards a local port (ssh -L) to a service inside, and counts as activity for the reaper', async () => {
    const local = 35_190;
    const forward = execa(
      'ssh',
      [
        '-N',
        '-L',
        `127.0.0.1:${local}:127.0.0.1:22`,
        '-i',
        key('alice'),
        ...strict(),
        '-o',
        'ExitOnForwardFailure=yes',
        '-p',
        String(GATEWAY_PORT),
        'alice@127.0.0.1',
      ],
      {reject: false},
    );
    try {
      let banner = '';
      for (let tries = 0; tries < 100 && !banner.startsWith('SSH-2.0-'); tries++) {
        await sleep(100);
        banner = await firstLine(local).catch(() => '');
      }
      // The container's own sshd answers through the tunnel.
      expect(banner).toMatch(/^SSH-2\.0-OpenSSH/);
      const reap = await sandbox.run(['reap'], {env: {SANDMAN_IDLE_TIMEOUT: '1h'}});
      expect(reap.exitCode).toBe(0);
      const shown = await sandbox.json<{last_active_reason: string | null}>(['session', 'show', 'alice']);
      expect(shown.body.last_active_reason).toBe('ssh');
    } finally {
      forward.kill();
      await forward;
    }
  });

  it('gives bob-with-alice-key, an unknown name and a wrong key the same denial, audits each, and creates nothing', async () => {
    const before = (await readState(sandbox.stateFile)).sessions.length;
    const attempts = [
      await ssh('bob', 'true', {key: key('alice')}),
      await ssh('nosuchuser', 'true', {key: key('alice')}),
      await ssh('alice', 'true', {key: key('stranger')}),
    ];
    for (const [index, attempt] of attempts.entries()) {
      expect(attempt.exitCode).toBe(255);
      expect(attempt.stderr.replace(/^\S+@127\.0\.0\.1: /, '')).toBe('Permission denied (publickey).');
      expect(attempt.stdout).toBe('');
      void index;
    }
    // Each gateway writes its line as its connection ends, which may be just after ssh exits.
    let refused: AuditLine[] = [];
    for (let tries = 0; tries < 50; tries++) {
      refused = (await auditLines()).filter(
        (line) => line.action === 'gateway-login' && line.result === 'failed',
      );
      if (refused.at(-1)?.user === 'alice') break;
      await sleep(100);
    }
    expect(refused.slice(-3).map((line) => [line.user, line.source])).toEqual([
      ['bob', '127.0.0.1'],
      ['nosuchuser', '127.0.0.1'],
      ['alice', '127.0.0.1'],
    ]);
    expect((await readState(sandbox.stateFile)).sessions).toHaveLength(before);
  });
});

describe('attempts', () => {
  it('hangs up after 6 refused keys in one connection (a seventh is never tried), and audits it', async () => {
    const keys = [];
    for (let index = 0; index < 7; index++) {
      const file = path.join(sandbox.dir, `many-${index}`);
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
      keys.push('-i', file);
    }
    // Alice's own key comes after seven wrong ones: the connection ends before its turn.
    keys.push('-i', key('alice'));
    const result = await gatewaySsh(GATEWAY_PORT, 'alice', 'true', {knownHosts, extra: keys});
    expect(result.exitCode).toBe(255);
    let refused: AuditLine | undefined;
    for (let tries = 0; tries < 50 && !refused; tries++) {
      refused = (await auditLines()).find((line) => line.reason === 'refused (publickey) after 6 attempt(s)');
      if (!refused) await sleep(100);
    }
    expect(refused).toMatchObject({
      action: 'gateway-login',
      user: 'alice',
      result: 'failed',
      source: '127.0.0.1',
    });
  });
});

describe('many connections', () => {
  it('10 concurrent first connections of one user make exactly one session, and all 10 commands run in it', async () => {
    expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
    const results = await Promise.all(Array.from({length: 10}, () => ssh('alice', 'hostname')));
    const state = await readState(sandbox.stateFile);
    const mine = state.sessions.filter((session) => session.user === 'alice');
    expect(mine).toHaveLength(1);
    for (const result of results) {
      expect(result.exitCode, result.stderr).toBe(0);
    }
    expect(new Set(results.map((result) => result.stdout.trim()))).toEqual(new Set(['sandman-alice']));
    expect(await sandbox.containers()).toHaveLength(1);
  });

  it('hostile clients: random bytes, a client silent after the banner, 50 wrong keys; each process exits, nothing is left, a good login works after', async () => {
    const containersBefore = await sandbox.containers();
    const sessionsBefore = (await readState(sandbox.stateFile)).sessions.length;
    // Random bytes: the gateway hangs up.
    const garbage = await exchange(
      GATEWAY_PORT,
      Buffer.from(Array.from({length: 4096}, (_, index) => (index * 73) % 256)),
    );
    expect(garbage.closed, gateway.log()).toBe(true);
    // Silent after the banner: dropped after gatewayLoginTimeout (3 s here).
    const silent = connect(GATEWAY_PORT, '127.0.0.1');
    const closedAt = new Promise<number>((resolve) => silent.on('close', () => resolve(Date.now())));
    silent.on('error', () => undefined);
    silent.resume();
    const openedAt = Date.now();
    const waited = (await closedAt) - openedAt;
    expect(waited).toBeGreaterThanOrEqual(2_500);
    expect(waited).toBeLessThan(15_000);
    // 50 wrong-key logins in a row.
    for (let index = 0; index < 50; index++) {
      const denied = await ssh('alice', 'true', {key: key('stranger')});
      expect(denied.exitCode).toBe(255);
    }
    for (let tries = 0; tries < 50 && (await gateway.processes()).length > 0; tries++) await sleep(100);
    expect(await gateway.processes()).toEqual([]);
    expect(await sandbox.containers()).toEqual(containersBefore);
    expect((await readState(sandbox.stateFile)).sessions).toHaveLength(sessionsBefore);
    const good = await ssh('alice', 'id -un');
    expect(good.stdout.trim()).toBe('alice');
  });
});

describe('directPorts false', () => {
  it('publishes no session port, and the gateway still reaches the session', async () => {
    const created = await sandbox.json<{session_id: string; ssh_port: number; ssh_command: string}>(
      ['session', 'create', 'bob', '--no-gpu'],
      {env: {SANDMAN_DIRECT_PORTS: 'false', SANDMAN_GATEWAY_PORT: String(GATEWAY_PORT)}},
    );
    expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
    expect(created.body.ssh_port).toBe(GATEWAY_PORT);
    expect(created.body.ssh_command).toContain(`-p ${GATEWAY_PORT} bob@`);
    const state = await readState(sandbox.stateFile);
    const record = state.sessions.find((session) => session.id === created.body.session_id)!;
    const ports = await execa('docker', ['port', record.container_id!], {reject: false});
    expect(ports.stdout.trim()).toBe('');
    const login = await ssh('bob', 'id -un', {key: key('bob')});
    expect(login.stdout.trim(), login.stderr).toBe('bob');
    // The session's own key (sandman made one: bob has registered keys, so none here) is not needed.
    expect(created.body.ssh_command).not.toContain(' -i ');
  });
});

describe('one GPU host, 20 users at once', () => {
  it('20 first connections make 8 GPU sessions on distinct devices and ports; the rest are told none is free; nothing leaks', async () => {
    const gpuSandbox = createSandbox({portStart: 35_200, portCount: 30});
    const env = fakeGpuEnv(gpuSandbox.dir, 'rtx-pro-6000-x8-no-mig');
    const gpuGateway = await GatewayUnderTest.start(gpuSandbox, 35_250, env);
    try {
      const users = Array.from({length: 20}, (_, index) => `user${index + 1}`);
      for (const user of users)
        expect(
          (await gpuSandbox.run(['user', 'add', user, '--ssh-key', key('alice.pub'), '--gpu', 'any'], {env}))
            .exitCode,
        ).toBe(0);
      const hosts = path.join(gpuSandbox.dir, 'known_hosts');
      await writeFile(hosts, (await gpuSandbox.run(['known-hosts'])).stdout + '\n');
      const results = await Promise.all(
        users.map((user) =>
          gatewaySsh(35_250, user, 'echo "$NVIDIA_VISIBLE_DEVICES"', {knownHosts: hosts, key: key('alice')}),
        ),
      );
      const ok = results.filter((result) => result.exitCode === 0);
      const refused = results.filter((result) => result.exitCode !== 0);
      expect(ok, gpuGateway.log()).toHaveLength(8);
      for (const result of refused)
        expect(result.stderr).toMatch(/every whole GPU is held by a session; nothing is free/);
      const state = await readState(gpuSandbox.stateFile);
      expect(state.sessions).toHaveLength(8);
      expect(new Set(state.sessions.map((session) => session.gpu_uuid)).size).toBe(8);
      expect(new Set(state.sessions.map((session) => session.ssh_port)).size).toBe(8);
      expect(new Set(ok.map((result) => result.stdout.trim())).size).toBe(8);
      expect(await gpuSandbox.containers()).toHaveLength(8);
    } finally {
      await gpuGateway.stop();
      await gpuSandbox.cleanup();
    }
  });
});

/** The first line a TCP server sends. */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (text.includes('\n')) {
        socket.destroy();
        resolve(text.split('\n')[0]!.trim());
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text.trim()));
  });
}

/** Sends bytes, and reports whether the server closed the connection within 10 s. */
function exchange(port: number, bytes: Buffer): Promise<{closed: boolean}> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({closed: false});
    }, 10_000);
    socket.on('error', () => undefined);
    // Read what the server sends (its banner), or its closing never shows.
    socket.resume();
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({closed: true});
    });
  });
}

describe('setup --gateway', () => {
  it("makes the gateway's keys and writes its units beside the reaper's; remembered; --remove takes them away", async () => {
    const hostSandbox = createSandbox({portStart: 35_300, portCount: 5});
    try {
      const units = path.join(hostSandbox.dir, 'units');
      const first = await hostSandbox.json<{steps: Array<{step: string; status: string; detail: string}>}>([
        'setup',
        '--gateway',
        '--unit-dir',
        units,
      ]);
      expect(first.exitCode, JSON.stringify(first.body)).toBe(0);
      expect(first.body.steps).toContainEqual({
        step: 'gateway',
        status: 'done',
        detail: `sandman-gateway.socket, sandman-gateway@.service in ${units}`,
      });
      const gatewayDir = path.join(path.dirname(hostSandbox.stateFile), 'gateway');
      for (const name of ['ssh_host_ed25519_key', 'relay_ed25519'])
        expect(((await stat(path.join(gatewayDir, name))).mode & 0o777).toString(8)).toBe('600');
      expect((await readdir(units)).sort()).toEqual([
        'sandman-gateway.socket',
        'sandman-gateway@.service',
        'sandman-reap.service',
        'sandman-reap.timer',
      ]);
      // A later setup without the flag keeps the gateway, and finds nothing to do.
      const again = await hostSandbox.json<{steps: Array<{step: string; status: string}>}>(['setup']);
      expect(again.body.steps).toContainEqual(expect.objectContaining({step: 'gateway', status: 'ok'}));
      const removed = await hostSandbox.json<{steps: Array<{step: string; status: string}>}>([
        'setup',
        '--remove',
      ]);
      expect(removed.body.steps).toContainEqual(expect.objectContaining({step: 'gateway', status: 'done'}));
      expect(await readdir(units).catch(() => [])).toEqual([]);
    } finally {
      await hostSandbox.cleanup();
    }
  });
});
