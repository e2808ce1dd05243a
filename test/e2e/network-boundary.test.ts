import {createServer, type Server} from 'node:net';

import {execa, type ResultPromise} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {chainNames} from '../../src/network/network-policy.js';
import {createSandbox, SSH_OPTIONS, sshRun, type Sandbox} from '../helpers/sandbox.js';

/**
 * The network boundary (docs/admin/network.md) with real iptables: from inside a session, the
 * host's services, other sessions' published ports and link-local addresses are out of reach;
 * allowed host ports and (by egress) outside hosts are not. The outside world is a network
 * namespace of the test's own, reached through a veth pair; it also stands in for the cloud
 * metadata endpoint 169.254.169.254.
 */
const OUTSIDE = 'sandman-outside';
const OUTSIDE_ADDRESS = '10.250.9.2';
const METADATA = '169.254.169.254';
const HOST_PORT = 33_680;
const ALLOWED_PORT = 33_681;

let sandbox: Sandbox;
let gateway: string;
let alice: {key: string; port: number};
let bobPort: number;
const servers: Server[] = [];
const outside: ResultPromise[] = [];

const sh = (command: string) => execa('sh', ['-c', command]);

beforeAll(async () => {
  await sh(`ip netns del ${OUTSIDE} 2>/dev/null; ip link del smv-outside 2>/dev/null; true`);
  await sh(
    [
      `ip netns add ${OUTSIDE}`,
      `ip link add smv-outside type veth peer name eth0 netns ${OUTSIDE}`,
      'ip addr add 10.250.9.1/24 dev smv-outside',
      'ip link set smv-outside up',
      `ip -n ${OUTSIDE} addr add ${OUTSIDE_ADDRESS}/24 dev eth0`,
      `ip -n ${OUTSIDE} addr add ${METADATA}/32 dev eth0`,
      `ip -n ${OUTSIDE} link set eth0 up`,
      `ip -n ${OUTSIDE} link set lo up`,
      `ip -n ${OUTSIDE} route add default via 10.250.9.1`,
      `ip route replace ${METADATA}/32 via ${OUTSIDE_ADDRESS}`,
    ].join(' && '),
  );
  // An outside web server and the metadata endpoint, both answering "outside".
  const server = execa('nsenter', [
    `--net=/var/run/netns/${OUTSIDE}`,
    'node',
    '-e',
    `for (const p of [8080, 80]) require('net').createServer((s) => { s.on('error', () => {}); s.end('outside\\n'); }).listen(p, '0.0.0.0')`,
  ]);
  server.catch(() => undefined);
  outside.push(server);
  // Services of the host itself, on every address.
  for (const port of [HOST_PORT, ALLOWED_PORT]) {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end('host\n');
    });
    await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
    servers.push(server);
  }
  sandbox = createSandbox({
    portStart: 33_600,
    portCount: 10,
    config: {hostAllow: [ALLOWED_PORT]},
  });
  // Published on every host address, so other sessions' ports are there on the gateway too.
  sandbox.env.SANDMAN_BIND_ADDRESS = '0.0.0.0';
  const created = await sandbox.json<{ssh_private_key_path: string; ssh_port: number}>([
    'session',
    'create',
    'alice',
    '--no-gpu',
  ]);
  expect(created.exitCode).toBe(0);
  alice = {key: created.body.ssh_private_key_path, port: created.body.ssh_port};
  const bob = await sandbox.json<{ssh_port: number}>(['session', 'create', 'bob', '--no-gpu']);
  bobPort = bob.body.ssh_port;
  gateway = (
    await execa('docker', ['network', 'inspect', sandbox.network, '-f', '{{(index .IPAM.Config 0).Gateway}}'])
  ).stdout;
  for (let attempt = 0; attempt < 50 && !(await reachable(OUTSIDE_ADDRESS, 8080, 'host')); attempt++)
    await sleep(100);
});
afterAll(async () => {
  for (const server of servers) server.close();
  for (const child of outside) child.kill();
  await sandbox?.cleanup();
  await sh(
    `ip route del ${METADATA}/32 2>/dev/null; ip link del smv-outside 2>/dev/null; ip netns del ${OUTSIDE} 2>/dev/null; true`,
  );
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `address:port` answers, seen from inside alice's session or from the host. */
async function reachable(address: string, port: number, from: 'alice' | 'host'): Promise<boolean> {
  if (from === 'host') {
    const result = await execa(
      'timeout',
      ['2', 'bash', '-c', `exec 3<>/dev/tcp/${address}/${port} && head -c 1 <&3`],
      {reject: false},
    );
    return result.exitCode === 0;
  }
  const result = await sshRun(
    alice.key,
    alice.port,
    'alice',
    `timeout 2 bash -c 'exec 3<>/dev/tcp/${address}/${port} && head -c 1 <&3'`,
  );
  return result.exitCode === 0;
}

describe('from inside a session', () => {
  it('the host is out of reach: its listeners on 0.0.0.0 and the gateway, and other sessions’ ports', async () => {
    const hostAddress = (
      await execa('sh', [
        '-c',
        "ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | grep -v '^172\\.' | head -n 1",
      ])
    ).stdout;
    expect(await reachable(gateway, HOST_PORT, 'host')).toBe(true);
    expect(await reachable(gateway, HOST_PORT, 'alice')).toBe(false);
    expect(await reachable(hostAddress || '10.250.9.1', HOST_PORT, 'alice')).toBe(false);
    expect(await reachable('10.250.9.1', HOST_PORT, 'alice')).toBe(false);
    expect(await reachable(gateway, bobPort, 'host')).toBe(true);
    expect(await reachable(gateway, bobPort, 'alice')).toBe(false);
  });

  it('a host port in hostAllow answers', async () => {
    expect(await reachable(gateway, ALLOWED_PORT, 'alice')).toBe(true);
  });

  it('the metadata address is out of reach while the host itself reaches it', async () => {
    expect(await reachable(METADATA, 80, 'host')).toBe(true);
    expect(await reachable(METADATA, 80, 'alice')).toBe(false);
  });

  it('outside hosts follow egress: open, none, a list of networks', async () => {
    expect(await reachable(OUTSIDE_ADDRESS, 8080, 'alice')).toBe(true);
    const none = await sandbox.json<{items: Array<{action: string}>}>(['reap'], {
      env: {SANDMAN_EGRESS: 'none'},
    });
    expect(none.body.items.map((item) => item.action)).toEqual(['restore-firewall']);
    expect(await reachable(OUTSIDE_ADDRESS, 8080, 'alice')).toBe(false);
    await sandbox.json(['reap'], {env: {SANDMAN_EGRESS: '10.250.9.0/24'}});
    expect(await reachable(OUTSIDE_ADDRESS, 8080, 'alice')).toBe(true);
    await sandbox.json(['reap'], {env: {SANDMAN_EGRESS: '192.0.2.0/24'}});
    expect(await reachable(OUTSIDE_ADDRESS, 8080, 'alice')).toBe(false);
    await sandbox.json(['reap']);
    expect(await reachable(OUTSIDE_ADDRESS, 8080, 'alice')).toBe(true);
  });
});

describe('the rules come back', () => {
  it('after a firewall reload: doctor fails, one reap restores them, the checks hold again', async () => {
    const {input, forward} = chainNames(sandbox.instance);
    await sh(`iptables -F ${input} && iptables -F ${forward}`);
    const hook = (await execa('iptables', ['-S', 'INPUT'])).stdout
      .split('\n')
      .find((line) => line.includes(`-j ${input}`))!;
    await execa('iptables', hook.replace(/^-A /, '-D ').split(' '));
    expect(await reachable(gateway, HOST_PORT, 'alice')).toBe(true);
    const status = await sandbox.run(['network', 'status']);
    expect(status.exitCode).toBe(1);
    expect(status.stdout).toMatch(new RegExp(`IPv4\\s+${input}\\s+altered`));
    const doctor = await sandbox.json<{checks: Array<{name: string; status: string}>}>([
      'doctor',
      '--unit-dir',
      sandbox.dir,
    ]);
    expect(doctor.body.checks.find((check) => check.name === 'network policy')?.status).toBe('fail');
    const reap = await sandbox.json<{items: Array<{action: string; result: string}>}>(['reap']);
    expect(reap.body.items).toEqual([expect.objectContaining({action: 'restore-firewall', result: 'done'})]);
    expect((await sandbox.run(['network', 'status'])).exitCode).toBe(0);
    expect(await reachable(gateway, HOST_PORT, 'alice')).toBe(false);
    expect(await reachable(METADATA, 80, 'alice')).toBe(false);
  });

  it('removing the last session keeps the protection for the next one', async () => {
    expect((await sandbox.run(['session', 'rm', 'alice', 'bob'])).exitCode).toBe(0);
    expect((await sandbox.run(['network', 'status'])).exitCode).toBe(0);
  });
});

describe("the session's own SSH port", () => {
  it('answers from the host and from another network namespace', async () => {
    const carol = await sandbox.json<{ssh_private_key_path: string; ssh_port: number}>([
      'session',
      'create',
      'carol',
      '--no-gpu',
    ]);
    expect(
      (await sshRun(carol.body.ssh_private_key_path, carol.body.ssh_port, 'carol', 'id -un')).stdout,
    ).toBe('carol');
    const fromOutside = await execa(
      'nsenter',
      [
        `--net=/var/run/netns/${OUTSIDE}`,
        'ssh',
        ...SSH_OPTIONS,
        '-i',
        carol.body.ssh_private_key_path,
        '-p',
        String(carol.body.ssh_port),
        'carol@10.250.9.1',
        'id -un',
      ],
      {reject: false, stdin: 'ignore'},
    );
    expect(fromOutside.stdout, String(fromOutside.stderr)).toBe('carol');
  });
});
