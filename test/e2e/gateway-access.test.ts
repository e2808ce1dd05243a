import {mkdir, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {GatewayUnderTest, gatewaySsh} from '../helpers/gateway.js';
import {createSandbox, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';
import {readState, sessionOf} from '../helpers/state-file.js';

/**
 * Who gets what through the SSH gateway (docs/admin/gateway.md "The SSH gateway"), with the real OpenSSH client
 * and ssh-agent under real systemd socket activation: the laptop's agent only with `ssh -A`, a
 * user whose userMaxTtl is under defaultTtl, and a user whose 1-minute session expired before a reap.
 */
const GATEWAY_PORT = 36_360;
let sandbox: Sandbox;
let gateway: GatewayUnderTest;
let keys: string;
let knownHosts: string;
const key = (name: string) => path.join(keys, name);
const ssh = (user: string, command: string, options: {extra?: string[]; env?: Record<string, string>} = {}) =>
  gatewaySsh(GATEWAY_PORT, user, command, {knownHosts, key: key(user), ...options});

beforeAll(async () => {
  sandbox = createSandbox({portStart: 36_300, portCount: 50});
  keys = path.join(sandbox.dir, 'keys');
  await mkdir(keys);
  const users: Array<[string, string[]]> = [
    ['alice', []],
    ['bob', ['--max-ttl', '30m']],
    ['carol', ['--ttl', '1m']],
  ];
  for (const [name, flags] of users) {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@laptop`, '-f', key(name)]);
    const added = await sandbox.run([
      'user',
      'add',
      name,
      '--ssh-key',
      key(`${name}.pub`),
      '--no-gpu',
      ...flags,
    ]);
    expect(added.exitCode, added.stderr).toBe(0);
  }
  knownHosts = path.join(sandbox.dir, 'known_hosts');
  await writeFile(knownHosts, (await sandbox.run(['known-hosts'])).stdout + '\n');
  gateway = await GatewayUnderTest.start(sandbox, GATEWAY_PORT);
});
afterAll(async () => {
  await gateway?.stop();
  await sandbox.cleanup();
});

describe('agent forwarding', () => {
  it('reaches the session only with ssh -A: without it SSH_AUTH_SOCK is empty and OpenSSH sees no offer', async () => {
    const socket = path.join(sandbox.dir, 'agent.sock');
    const agent = execa('ssh-agent', ['-D', '-a', socket], {reject: false});
    const env = {SSH_AUTH_SOCK: socket};
    try {
      for (let tries = 0; tries < 50; tries++) {
        if ((await execa('ssh-add', ['-l'], {reject: false, env})).exitCode === 1) break;
        await sleep(100);
      }
      expect((await execa('ssh-add', [key('alice')], {reject: false, env})).exitCode).toBe(0);
      const command = 'echo "sock=[$SSH_AUTH_SOCK]"; ssh-add -l';

      const without = await ssh('alice', command, {env});
      expect(without.stdout, without.stderr + gateway.log()).toContain('sock=[]');
      expect(without.stdout).not.toContain('alice@laptop');
      expect(without.stderr).not.toMatch(/agent forwarding|break-in/);

      const fingerprint = (await execa('ssh-keygen', ['-lf', key('alice.pub')])).stdout.split(' ')[1]!;
      const forwarded = await ssh('alice', command, {env, extra: ['-A']});
      expect(forwarded.exitCode, forwarded.stderr).toBe(0);
      expect(forwarded.stdout).toMatch(/sock=\[\/tmp\/.+\]/);
      expect(forwarded.stdout).toContain(`${fingerprint} alice@laptop`);
    } finally {
      agent.kill();
      await agent;
    }
  });
});

describe('a TTL limit under defaultTtl', () => {
  it('gives bob (userMaxTtl 30m) a 30-minute session through the gateway; asking for more is still exit 8', async () => {
    const first = await ssh('bob', 'id -un');
    expect(first.stdout.trim(), first.stderr + gateway.log()).toBe('bob');
    expect(first.exitCode).toBe(0);
    expect(first.stderr).toContain('sandman: starting your session (no GPU, for 30m) ...');
    const session = sessionOf(await readState(sandbox.stateFile), 'bob')!;
    expect(Date.parse(session.expires_at) - Date.parse(session.created_at)).toBe(30 * 60_000);

    const asked = await sandbox.run(['session', 'create', 'bob', '--no-gpu', '--ttl', '1h']);
    expect(asked.exitCode).toBe(8);
    expect(asked.stderr).toMatch(
      /bob may ask for at most 30 minutes \(userMaxTtl, from user\); asked: 1 hour\(s\)/,
    );
  });
});

describe('a session expired before any reap', () => {
  it('refuses its own port, and is removed as the reaper removes it when its user connects; a new one starts', async () => {
    // A file outside the home tells one container from the next.
    const container = 'test -e /tmp/marker && echo same || echo new; touch /tmp/marker';
    const first = await ssh('carol', container);
    expect(first.stdout.trim(), first.stderr + gateway.log()).toBe('new');
    const old = sessionOf(await readState(sandbox.stateFile), 'carol')!;
    // carol's default is 1m: her session expires, and no reap runs.
    await sleep(Date.parse(old.expires_at) - Date.now() + 1500);

    // Its own port: the host certificate (and the key) ended with it, as README says.
    const direct = await execa(
      'ssh',
      [
        '-i',
        key('carol'),
        ...strictHostKeyOptions(knownHosts),
        '-p',
        String(old.ssh_port),
        'carol@127.0.0.1',
        'true',
      ],
      {reject: false, stdin: 'ignore'},
    );
    expect(direct.exitCode).toBe(255);
    expect(direct.stderr).toMatch(/Certificate invalid: expired[\s\S]*Host key verification failed/);

    const again = await ssh('carol', container);
    expect(again.exitCode, again.stderr + gateway.log()).toBe(0);
    const expiredAt = old.expires_at.replace('T', ' ').replace('Z', ' UTC');
    expect(again.stderr).toContain(
      `sandman: your session ${old.id} expired at ${expiredAt}; removing it (your home directory is kept)`,
    );
    expect(again.stderr).toMatch(/starting your session \(no GPU, for 1m\)/);
    expect(again.stdout.trim()).toBe('new');
    const fresh = sessionOf(await readState(sandbox.stateFile), 'carol')!;
    expect(fresh.id).not.toBe(old.id);
    expect(await sandbox.containers()).not.toContain(old.container_id);
    const audit = (await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8')).split('\n').filter(Boolean);
    expect(audit.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({action: 'reap', session: old.id, result: 'ok', reason: 'expired'}),
    );
  }, 150_000);
});
