import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN, ROOT, TEST_IMAGE} from '../helpers/constants.js';
import {GatewayUnderTest, gatewaySsh} from '../helpers/gateway.js';
import {createSandbox, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';
import {socketActivatedApi} from '../helpers/socket-activated-api.js';
import {editState, PAST, readState} from '../helpers/state-file.js';

/**
 * Swarm mode on a real swarm (docs/admin/swarm.md): the lab (test/swarm/lab.sh) makes three dockerd
 * nodes in network namespaces of their own, joined as one swarm, each advertising a replayed host's
 * GPUs as generic resources and running containers with the nvidia-container-runtime stand-in.
 * sandman runs on the manager (in lab1's namespace); `node setup` runs on every node; users log in
 * from this machine with the real OpenSSH client at the node's address.
 */
const LAB = path.join(ROOT, 'test', 'swarm', 'lab.sh');
const STAND_IN = path.join(ROOT, 'test', 'stand-ins', 'nvidia-smi.mjs');
const HOOK_LOG = '/var/tmp/sandman-test-nvidia-hook.log';
// The replayed host each lab node stands for (test/swarm/lab.sh HOSTS).
const HOSTS = ['a100-mig-r580', 'h100-mig-masked', 'rtx-pro-6000-x8-no-mig'];
const PORT_START = 34_000;
const TIMEOUT = 180_000;

let sandbox: Sandbox;
let labDown = false;
const socket = (k: number) => `unix:///run/sandman-test-engines/lab${k}.sock`;
const address = (k: number) => `10.250.${50 + k}.2`;
const docker = (k: number, args: string[]) => execa('docker', ['-H', socket(k), ...args], {reject: false});
const RESTARTED = 'engine.sh: dockerd exited; starting it again';
/** How many times test/engines/engine.sh has started a lab engine again after it died. */
const restarts = async (): Promise<number> => {
  let count = 0;
  for (const k of [1, 2, 3]) {
    const log = await readFile(`/run/sandman-test-engines/lab${k}.log`, 'utf8').catch(() => '');
    count += log.split(RESTARTED).length - 1;
  }
  return count;
};
/** Waits until every lab engine answers again (a restarted manager takes seconds to rejoin). */
async function labAnswers(): Promise<void> {
  for (let attempt = 0; attempt < 120; attempt++) {
    const answers = await Promise.all(
      [1, 2, 3].map((k) => docker(k, ['info', '-f', '{{.Swarm.LocalNodeState}}'])),
    );
    if (answers.every((answer) => answer.exitCode === 0 && String(answer.stdout).trim() === 'active')) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the lab engines did not come back');
}
const nodeNumber = (name: string) => Number(name.replace('lab', ''));

interface Created {
  session_id: string;
  node: string;
  ssh_host: string;
  ssh_port: number;
  ssh_user: string;
  gpu_uuid: string | null;
  ssh_private_key_path: string;
  container_name: string;
}

/** sandman on the manager. */
const sandman = async (args: string[]) => {
  const result = await sandbox.run([...args, '--json']);
  return {...result, body: result.stdout ? JSON.parse(result.stdout) : undefined};
};
const create = async (user: string, flags: string[] = ['--no-gpu']) => {
  const result = await sandbox.run(['session', 'create', user, ...flags, '--json']);
  return {...result, session: result.exitCode === 0 ? (JSON.parse(result.stdout) as Created) : undefined};
};

/** `sandman node setup` on lab node k, as an operator runs it there. */
const nodeSetup = (k: number, extra: string[] = []) =>
  execa(
    'nsenter',
    [
      `--net=/var/run/netns/sandman-lab${k}`,
      'node',
      BIN,
      'node',
      'setup',
      '--daemon-json',
      path.join(sandbox.dir, `lab${k}`, 'daemon.json'),
      '--runtime-config',
      path.join(sandbox.dir, `lab${k}`, 'config.toml'),
      '--unit-dir',
      path.join(sandbox.dir, `lab${k}`, 'units'),
      '--json',
      ...extra,
    ],
    {
      reject: false,
      env: {
        ...sandbox.env,
        DOCKER_HOST: socket(k),
        SANDMAN_NVIDIA_SMI: STAND_IN,
        SANDMAN_FAKE_GPU_HOST: HOSTS[k - 1]!,
        // The manager shares sandman's configuration; the other nodes keep a state directory of
        // their own (their locks live there).
        ...(k === 1 ? {} : {SANDMAN_STATE_FILE: path.join(sandbox.dir, `lab${k}`, 'state', 'state.json')}),
      },
    },
  );

let knownHosts: string;
const ssh = (session: Created, command: string) =>
  execa(
    'ssh',
    [
      ...strictHostKeyOptions(knownHosts),
      '-o',
      'ConnectTimeout=10',
      '-i',
      session.ssh_private_key_path,
      '-p',
      String(session.ssh_port),
      `${session.ssh_user}@${session.ssh_host}`,
      command,
    ],
    {reject: false, stdin: 'ignore', timeout: 60_000},
  );

/** The container of a session on its node, as that node's engine names it. */
async function containerOf(session: Created): Promise<{id: string; ip: string}> {
  const k = nodeNumber(session.node);
  const id = String(
    (
      await docker(k, [
        'ps',
        '-q',
        '--no-trunc',
        '--filter',
        `label=io.sandman.session=${session.session_id}`,
      ])
    ).stdout,
  ).trim();
  const ip = String(
    (await docker(k, ['inspect', id, '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}']))
      .stdout,
  ).trim();
  return {id, ip};
}

beforeAll(async () => {
  // A lab an earlier run left behind (killed, or its manager crashed) would lend this run its
  // services, volumes and swarm: start from none.
  await execa('bash', [LAB, 'down'], {reject: false});
  await execa('bash', [LAB, 'up', '3']);
  sandbox = createSandbox({
    portStart: PORT_START,
    config: {backend: 'swarm'},
    host: {netns: 'sandman-lab1', dockerHost: socket(1), address: address(1)},
  });
}, TIMEOUT);

afterAll(async () => {
  if (labDown) return;
  try {
    await labAnswers().catch(() => undefined);
    await sandbox?.cleanup();
  } finally {
    // Down even when the cleanup failed (an engine of the lab unreachable).
    await execa('bash', [LAB, 'down'], {reject: false});
  }
}, TIMEOUT);

describe('swarm mode on a three-node lab swarm', () => {
  const sessions: Created[] = [];

  it(
    'node setup on every node: the GPUs it advertises, the runtime setting, the network, the firewall and its timer',
    async () => {
      for (const k of [1, 2, 3]) {
        const dry = await nodeSetup(k);
        expect(dry.exitCode, dry.stderr).toBe(0);
        expect(JSON.parse(dry.stdout).steps.map((step: {status: string}) => step.status)).toContain('would');
        const applied = await nodeSetup(k, ['--apply']);
        expect(applied.exitCode, applied.stderr).toBe(0);
        const result = JSON.parse(applied.stdout);
        // What node setup writes for this node's nvidia-smi is what the lab node advertises.
        const node = JSON.parse(String((await docker(1, ['node', 'inspect', `lab${k}`])).stdout))[0];
        const advertised = node.Description.Resources.GenericResources.map(
          (resource: {NamedResourceSpec: {Kind: string; Value: string}}) =>
            `${resource.NamedResourceSpec.Kind}=${resource.NamedResourceSpec.Value}`,
        );
        const daemon = JSON.parse(await readFile(path.join(sandbox.dir, `lab${k}`, 'daemon.json'), 'utf8'));
        expect([...daemon['node-generic-resources']].sort()).toEqual([...advertised].sort());
        expect(daemon['default-runtime']).toBe('nvidia');
        expect(result.restart_dockerd).toBe(true);
        // The runtime stand-in of the node reads the same swarm-resource value.
        const labToml = await readFile(
          `/var/lib/sandman-test-engines/lab${k}-config/nvidia-container-runtime/config.toml`,
          'utf8',
        );
        const toml = await readFile(path.join(sandbox.dir, `lab${k}`, 'config.toml'), 'utf8');
        expect(toml).toContain(`swarm-resource = "${/swarm-resource = "([^"]*)"/.exec(labToml)![1]}"`);
        const rules = String(
          (await execa('ip', ['netns', 'exec', `sandman-lab${k}`, 'iptables', '-S'])).stdout,
        );
        expect(rules).toMatch(/-A DOCKER-USER -i sm-\S+ -j SANDMAN-FWD-/);
        expect(rules).toContain(`--dport ${PORT_START}:${PORT_START + 49} -j DROP`);
        const units = await readFile(
          path.join(sandbox.dir, `lab${k}`, 'units', 'sandman-node-firewall.service'),
          'utf8',
        );
        expect(units).toContain('node setup --apply --firewall-only');
        const unitDir = path.join(sandbox.dir, `lab${k}`, 'units');
        const verify = await execa(
          'systemd-analyze',
          [
            'verify',
            path.join(unitDir, 'sandman-node-firewall.service'),
            path.join(unitDir, 'sandman-node-firewall.timer'),
          ],
          {reject: false},
        );
        expect(verify.exitCode, verify.stderr).toBe(0);
        // A second run changes nothing.
        const again = JSON.parse(String((await nodeSetup(k, ['--apply'])).stdout));
        expect(again.steps.every((step: {status: string}) => step.status === 'ok')).toBe(true);
      }
      const known = await sandbox.run(['known-hosts']);
      expect(known.exitCode, known.stderr).toBe(0);
      knownHosts = path.join(sandbox.dir, 'known_hosts');
      await writeFile(knownHosts, known.stdout);
    },
    TIMEOUT,
  );

  it(
    'sessions for six users land on several nodes; each logs in at its node as its user, without privileges',
    async () => {
      const users = ['ann', 'ben', 'cat', 'dan', 'eve', 'fay'];
      const results = await Promise.all(users.map((user) => create(user)));
      for (const result of results) expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      sessions.push(...results.map((result) => result.session!));
      expect(new Set(sessions.map((session) => session.node)).size).toBeGreaterThanOrEqual(2);
      for (const session of sessions) {
        expect(session.ssh_host).toBe(address(nodeNumber(session.node)));
        const login = await ssh(
          session,
          'id -un; grep -E "^(CapEff|NoNewPrivs):" /proc/self/status; echo "kept by $(id -un)" > ~/kept',
        );
        expect(login.exitCode, login.stderr).toBe(0);
        expect(login.stdout.split('\n')).toEqual([
          session.ssh_user,
          'CapEff:\t0000000000000000',
          'NoNewPrivs:\t1',
        ]);
      }
    },
    TIMEOUT,
  );

  it(
    "a user's next session is on the same node, with the home as it was left",
    async () => {
      const first = sessions.shift()!;
      expect((await sandman(['session', 'rm', first.session_id])).exitCode).toBe(0);
      const next = await create(first.ssh_user);
      expect(next.exitCode, next.stdout + next.stderr).toBe(0);
      expect(next.session!.node).toBe(first.node);
      const read = await ssh(next.session!, 'cat ~/kept');
      expect(read.stdout).toBe(`kept by ${first.ssh_user}`);
      // `sandman ssh` on the manager reaches the session at its node; its logs come through Swarm.
      const viaSandman = await sandbox.run(['ssh', first.ssh_user, '--', 'cat', '~/kept']);
      expect(viaSandman.stdout.trim(), viaSandman.stderr).toBe(`kept by ${first.ssh_user}`);
      const logs = await sandbox.run(['session', 'logs', first.ssh_user]);
      expect(logs.stdout).toContain(`sandman-entrypoint: session for ${first.ssh_user}`);
      sessions.unshift(next.session!);
    },
    TIMEOUT,
  );

  it(
    "the SSH gateway on the manager reaches sessions on every node at the node's address and port",
    async () => {
      const gateway = await GatewayUnderTest.start(
        sandbox,
        2200,
        {},
        {netns: 'sandman-lab1', address: address(1)},
      );
      try {
        const byNode = new Map(sessions.map((session) => [session.node, session]));
        expect(byNode.size).toBeGreaterThanOrEqual(2);
        for (const session of byNode.values()) {
          // The session's own key is one the gateway accepts for its user; the host key is the
          // gateway's, certified by the cluster's CA for the manager's address.
          const login = await gatewaySsh(2200, session.ssh_user, 'id -un; cat ~/kept', {
            knownHosts,
            key: session.ssh_private_key_path,
            host: address(1),
          });
          expect(login.stdout.split('\n'), login.stderr + gateway.log()).toEqual([
            session.ssh_user,
            `kept by ${session.ssh_user}`,
          ]);
        }
      } finally {
        await gateway.stop();
      }
    },
    TIMEOUT,
  );

  it(
    'stop scales the service to 0 (the home volume stays), start scales it back and the user logs in again',
    async () => {
      const session = sessions[1]!;
      const stopped = await sandman(['session', 'stop', session.session_id]);
      expect(stopped.exitCode, stopped.stdout + stopped.stderr).toBe(0);
      expect(stopped.body).toMatchObject({status: 'stopped', note: expect.stringMatching(/scaled to 0/)});
      const service = JSON.parse(
        String((await docker(1, ['service', 'inspect', session.container_name])).stdout),
      )[0];
      expect(service.Spec.Mode.Replicated.Replicas).toBe(0);
      const started = await sandman(['session', 'start', session.session_id]);
      expect(started.exitCode, started.stdout + started.stderr).toBe(0);
      expect(started.body).toMatchObject({status: 'running'});
      const read = await ssh(session, 'cat ~/kept');
      expect(read.stdout, read.stderr).toBe(`kept by ${session.ssh_user}`);
    },
    TIMEOUT,
  );

  it(
    'GPUs: concurrent creates get distinct devices of the node offering the profile, one beyond exits 5 naming what is free',
    async () => {
      const lab1 = JSON.parse(String((await docker(1, ['node', 'inspect', 'lab1'])).stdout))[0];
      const supply = lab1.Description.Resources.GenericResources.filter(
        (resource: {NamedResourceSpec: {Kind: string}}) =>
          resource.NamedResourceSpec.Kind === 'NVIDIA-MIG-1c.2g.10gb',
      ).map((resource: {NamedResourceSpec: {Value: string}}) => resource.NamedResourceSpec.Value);
      expect(supply).toHaveLength(2);
      const pair = await Promise.all(['gpa', 'gpb'].map((user) => create(user, ['--profile', '1c.2g.10gb'])));
      for (const result of pair) expect(result.exitCode, result.stdout + result.stderr).toBe(0);
      const gpuSessions = pair.map((result) => result.session!);
      expect(gpuSessions.map((session) => session.node)).toEqual(['lab1', 'lab1']);
      expect(gpuSessions.map((session) => session.gpu_uuid).sort()).toEqual([...supply].sort());
      // The hook on the node logged exactly that device for each session's container.
      const log = await readFile(HOOK_LOG, 'utf8');
      for (const session of gpuSessions) {
        const {id} = await containerOf(session);
        expect(log).toContain(`${id} ${session.gpu_uuid}\n`);
      }
      const beyond = await create('gpc', ['--profile', '1c.2g.10gb']);
      expect(beyond.exitCode).toBe(5);
      const message = JSON.parse(beyond.stdout).error.message as string;
      expect(message).toContain('no free 1c.2g.10gb device');
      expect(message).toMatch(/free now: lab1: 1g\.5gb, 4g\.20gb; lab2: .*1g\.10gb/);
      expect((await readState(sandbox.stateFile)).sessions.some((session) => session.user === 'gpc')).toBe(
        false,
      );
      // A whole GPU: only lab3 has them.
      const whole = await create('gpw', ['--gpu', 'any']);
      expect(whole.exitCode, whole.stdout + whole.stderr).toBe(0);
      expect(whole.session!.node).toBe('lab3');
      expect(whole.session!.gpu_uuid).toMatch(/^GPU-/);
      expect(await readFile(HOOK_LOG, 'utf8')).toContain(
        `${(await containerOf(whole.session!)).id} ${whole.session!.gpu_uuid}\n`,
      );
      // Another node's profile lands there.
      const other = await create('gpd', ['--profile', '1g.10gb']);
      expect(other.exitCode, other.stdout + other.stderr).toBe(0);
      expect(other.session!.node).toBe('lab2');
      const available = (await sandman(['gpu', 'available'])).body as {devices: Array<{uuid: string}>};
      const free = available.devices.map((device) => device.uuid);
      for (const session of [...gpuSessions, whole.session!, other.session!])
        expect(free).not.toContain(session.gpu_uuid);
      sessions.push(...gpuSessions, whole.session!, other.session!);
    },
    TIMEOUT,
  );

  it(
    'the HTTP API on the manager: a create on a chosen node with a profile, the GPUs per node',
    async () => {
      const socketPath = path.join(sandbox.dir, 'api.sock');
      const api = socketActivatedApi(socketPath, {...sandbox.env, SANDMAN_API_IDLE_TIMEOUT: '2s'}, [
        'nsenter',
        '--net=/var/run/netns/sandman-lab1',
      ]);
      const curl = async (args: string[]) => {
        const result = await execa('curl', ['-s', '--unix-socket', socketPath, ...args], {reject: false});
        return JSON.parse(String(result.stdout) || 'null');
      };
      try {
        for (let attempt = 0; attempt < 50; attempt++) {
          if ((await curl(['http://x/healthz']))?.status === 'healthy') break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const created = await curl([
          '-X',
          'POST',
          '-H',
          'Content-Type: application/json',
          '-d',
          JSON.stringify({user_id: 'apiu', node: 'lab2', mig_profile: '2g.20gb'}),
          'http://x/sessions',
        ]);
        expect(created.ssh_host, JSON.stringify(created)).toBe(address(2));
        expect(created.gpu_uuid).toBe('MIG-00000001-0000-0000-0000-000000000001');
        const gpus = await curl(['http://x/gpus']);
        expect(gpus.nodes.map((node: {node: string}) => node.node)).toEqual(['lab1', 'lab2', 'lab3']);
        expect(gpus.count).toBe(16);
      } finally {
        api.kill('SIGKILL');
        await execa('pkill', ['-f', `${BIN} api`], {reject: false});
      }
    },
    TIMEOUT,
  );

  it(
    'ten creates at once: no port twice on a node, no device twice, the state equals the services',
    async () => {
      const results = await Promise.all(
        Array.from({length: 10}, (_, index) =>
          create(`par${index}`, index < 2 ? ['--profile', '1g.10gb'] : ['--no-gpu']),
        ),
      );
      // lab2 has two 1g.10gb devices and one is taken: one of the two GPU creates exits 5.
      expect(
        results.map((result) => result.exitCode).sort(),
        results.map((result) => result.stdout.slice(0, 300)).join('\n'),
      ).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
      sessions.push(...results.flatMap((result) => (result.session ? [result.session] : [])));
      const state = await readState(sandbox.stateFile);
      const ports = state.sessions.map((session) => `${session.node}:${session.ssh_port}`);
      expect(new Set(ports).size).toBe(ports.length);
      const devices = state.sessions.flatMap((session) => (session.gpu_uuid ? [session.gpu_uuid] : []));
      expect(new Set(devices).size).toBe(devices.length);
      const services = String(
        (
          await docker(1, [
            'service',
            'ls',
            '--filter',
            `label=io.sandman.instance=${sandbox.instance}`,
            '--format',
            '{{.Name}}',
          ])
        ).stdout,
      )
        .split('\n')
        .filter(Boolean)
        .sort();
      expect(services).toEqual(state.sessions.map((session) => session.container_name).sort());
    },
    TIMEOUT,
  );

  it(
    'no TCP from one session to another: not on its node, not across nodes',
    async () => {
      const [from, sameNode] = sessions.filter((session) => session.node === 'lab1');
      const otherNode = sessions.find((session) => session.node !== 'lab1')!;
      const target = await containerOf(sameNode!);
      const probes = [
        `${target.ip}/22`,
        `${otherNode.ssh_host}/${otherNode.ssh_port}`,
        `${sameNode!.ssh_host}/${sameNode!.ssh_port}`,
      ];
      const script = probes
        .map(
          (probe) =>
            `if timeout 2 bash -c 'exec 3<>/dev/tcp/${probe}' 2>/dev/null; then echo open; else echo closed; fi`,
        )
        .join('; ');
      const result = await ssh(from!, script);
      expect(result.stdout.split('\n'), result.stderr).toEqual(['closed', 'closed', 'closed']);
      // They do answer from outside: it is the boundary that keeps the session out.
      for (const session of [otherNode, sameNode!]) {
        const banner = await execa('ssh-keyscan', ['-p', String(session.ssh_port), session.ssh_host], {
          reject: false,
        });
        expect(banner.stdout).toContain('ssh-ed25519');
      }
    },
    TIMEOUT,
  );

  it(
    'what needs the container on its node: --password is refused, extend moves the expiry and says what it could not',
    async () => {
      const password = await create('pwd', ['--no-gpu', '--password']);
      expect(password.exitCode).toBe(2);
      expect(JSON.parse(password.stdout).error.message).toContain('swarm mode: --password is not available');
      const session = sessions[0]!;
      const extend = await sandbox.run(['session', 'extend', session.session_id, '--ttl', '30m', '--json']);
      expect(extend.exitCode, extend.stderr).toBe(0);
      expect(extend.stderr).toContain('its key and host certificate keep the old expiry');
      const state = await readState(sandbox.stateFile);
      expect(state.sessions.find((record) => record.id === session.session_id)!.expires_at).toBe(
        JSON.parse(extend.stdout).expires_at,
      );
    },
    TIMEOUT,
  );

  it(
    'a session Swarm cannot start: exit 1 with the engine’s reason after its retries, nothing left behind',
    async () => {
      // An image only the manager has: lab2 cannot start it, however often Swarm tries.
      expect((await docker(1, ['tag', TEST_IMAGE, 'sandman-test/only-lab1:latest'])).exitCode).toBe(0);
      const failed = await create('nim', [
        '--no-gpu',
        '--node',
        'lab2',
        '--image',
        'sandman-test/only-lab1:latest',
      ]);
      expect(failed.exitCode, failed.stdout).toBe(1);
      expect(JSON.parse(failed.stdout).error.message).toMatch(
        /Swarm could not start sandman-nim-\w+ \(3 attempts\): .*No such image/,
      );
      expect((await readState(sandbox.stateFile)).sessions.some((session) => session.user === 'nim')).toBe(
        false,
      );
      expect(String((await docker(1, ['service', 'ls', '--format', '{{.Name}}'])).stdout)).not.toContain(
        'sandman-nim-',
      );
      expect(String((await docker(1, ['secret', 'ls', '--format', '{{.Name}}'])).stdout)).not.toContain(
        'sandman-nim-',
      );
    },
    TIMEOUT,
  );

  it(
    'doctor checks the manager, the nodes, their GPUs and the image on every node',
    async () => {
      const doctor = await sandman(['doctor']);
      const checks = Object.fromEntries(
        // No reaper timer is installed here, so doctor fails that check (the document is {ok, checks} either way).
        (
          doctor.body.checks as Array<{
            name: string;
            status: string;
            detail: string;
          }>
        ).map((check) => [check.name, check]),
      );
      expect(checks['swarm manager']?.status).toBe('ok');
      expect(checks['swarm nodes']).toMatchObject({status: 'ok', detail: '3 node(s) ready and active'});
      expect(checks['advertised GPUs']).toMatchObject({status: 'ok', detail: 'lab1: 4, lab2: 4, lab3: 8'});
      expect(checks['image on nodes']?.status).toBe('ok');
      expect(checks['session tasks']?.status).toBe('ok');
    },
    TIMEOUT,
  );

  it(
    'reap: an expired session’s service goes; a service removed by hand takes its record along',
    async () => {
      const [expired, removed] = [sessions.pop()!, sessions.pop()!];
      await editState(sandbox.stateFile, (state) => {
        state.sessions.find((session) => session.id === expired.session_id)!.expires_at = PAST;
      });
      expect((await docker(1, ['service', 'rm', removed.container_name])).exitCode).toBe(0);
      // A service of this sandman's that no record knows: an orphan.
      const orphan = await docker(1, [
        'service',
        'create',
        '--detach',
        '--no-resolve-image',
        '--name',
        'sandman-orphan-000000000000',
        '--label',
        `io.sandman.instance=${sandbox.instance}`,
        '--label',
        'io.sandman.session=000000000000',
        '--restart-condition',
        'none',
        TEST_IMAGE,
        'sleep',
        '600',
      ]);
      expect(orphan.exitCode, orphan.stderr).toBe(0);
      const reap = await sandman(['reap']);
      expect(reap.exitCode, reap.stderr).toBe(0);
      const items = (reap.body.items as Array<{reason: string; session_id: string; result: string}>).filter(
        (item) => item.session_id,
      );
      expect(items.map((item) => [item.reason, item.session_id, item.result]).sort()).toEqual(
        [
          ['dangling', removed.session_id, 'done'],
          ['expired', expired.session_id, 'done'],
          ['orphan', '000000000000', 'done'],
        ].sort(),
      );
      const left = String((await docker(1, ['service', 'ls', '--format', '{{.Name}}'])).stdout);
      expect(left).not.toContain(expired.container_name);
      expect(left).not.toContain('sandman-orphan-000000000000');
      const secrets = String((await docker(1, ['secret', 'ls', '--format', '{{.Name}}'])).stdout);
      expect(secrets).not.toContain(expired.container_name);
      expect(secrets).not.toContain(removed.container_name);
      const ids = (await readState(sandbox.stateFile)).sessions.map((session) => session.id);
      expect(ids).not.toContain(expired.session_id);
      expect(ids).not.toContain(removed.session_id);
    },
    TIMEOUT,
  );

  it(
    "a drained node: its user's create exits 6 and nothing moves elsewhere",
    async () => {
      const pinned = sessions.find((session) => session.node === 'lab2')!;
      const staying = sessions.find((session) => session.node === 'lab2' && session !== pinned)!;
      expect((await sandman(['session', 'rm', pinned.session_id])).exitCode).toBe(0);
      expect((await docker(1, ['node', 'update', '--availability', 'drain', 'lab2'])).exitCode).toBe(0);
      try {
        const refused = await create(pinned.ssh_user);
        expect(refused.exitCode).toBe(6);
        expect(JSON.parse(refused.stdout).error.message).toContain(
          `node lab2 is drained: ${pinned.ssh_user}'s home is there`,
        );
        const state = await readState(sandbox.stateFile);
        expect(state.sessions.some((session) => session.user === pinned.ssh_user)).toBe(false);
        // The other session of that node is not started elsewhere, with an empty home.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        const tasks = String(
          (
            await docker(1, [
              'service',
              'ps',
              staying.container_name,
              '--format',
              '{{.Node}} {{.CurrentState}}',
            ])
          ).stdout,
        );
        expect(tasks).not.toMatch(/^lab[13] Running/m);
        // Swarm reschedules in its own time: the reaper reports the task once Swarm gave up placing it.
        let reported: {detail?: string} | undefined;
        for (let attempt = 0; attempt < 40 && !reported; attempt++) {
          const reap = await sandman(['reap', '--dry-run']);
          reported = (reap.body.items as Array<{action: string; session_id: string; detail?: string}>).find(
            (item) => item.action === 'report' && item.session_id === staying.session_id,
          );
          if (!reported) await new Promise((resolve) => setTimeout(resolve, 500));
        }
        expect(reported?.detail).toMatch(/no suitable node/);
      } finally {
        await docker(1, ['node', 'update', '--availability', 'active', 'lab2']);
      }
    },
    TIMEOUT,
  );

  it(
    'rm --all removes every service and secret; homes stay on their nodes',
    async () => {
      const before = await restarts();
      let rm = await sandman(['session', 'rm', '--all', '--yes']);
      if (rm.exitCode === 6 && (await restarts()) > before) {
        // Debian's dockerd 20.10 can crash removing services (a swarmkit race, see
        // test/engines/engine.sh); on a host systemd starts it again and the admin runs rm again.
        console.warn(`a lab engine crashed during rm --all and was started again: ${rm.stdout}`);
        await labAnswers();
        rm = await sandman(['session', 'rm', '--all', '--yes']);
      }
      expect(rm.exitCode, rm.stdout).toBe(0);
      expect(String((await docker(1, ['service', 'ls', '-q'])).stdout).trim()).toBe('');
      expect(String((await docker(1, ['secret', 'ls', '-q'])).stdout).trim()).toBe('');
      const volumes = String((await docker(1, ['volume', 'ls', '--format', '{{.Name}}'])).stdout);
      expect(volumes).toContain('sandman-home-');
    },
    TIMEOUT,
  );

  it(
    'the lab comes down leaving nothing behind',
    async () => {
      await labAnswers();
      await sandbox.cleanup();
      await execa('bash', [LAB, 'down']);
      labDown = true;
      expect(String((await execa('ip', ['netns', 'list'])).stdout)).not.toMatch(/sandman-lab/);
      expect(String((await execa('iptables', ['-S', 'DOCKER-USER'])).stdout)).not.toContain('smv-lab+');
    },
    TIMEOUT,
  );
});
