/**
 * `npm run bench`: sandman against raw Docker (or a bare `node -e 0`), side by side in one run,
 * median of BENCH_RUNS (default 5) runs each. Needs dockerd and the test base image (.ci/run).
 */
import {mkdtempSync, writeFileSync} from 'node:fs';
import {chown, mkdir, rm} from 'node:fs/promises';
import {cpus, tmpdir, totalmem} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {execa} from 'execa';

import {instanceId, LABELS} from '../src/labels.js';
import {removeFirewallChains} from '../test/helpers/sandbox.js';
import {SSHD_CAPABILITIES} from '../src/session/session-service.js';
import {generateKeyPair} from '../src/ssh/ssh-keys.js';
import type {SessionRecord, UserRecord} from '../src/state/state-data.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin', 'run.js');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BASE = process.env.SANDMAN_TEST_BASE_IMAGE ?? 'sandman-test/base:bookworm';
const IMAGE = process.env.SANDMAN_TEST_IMAGE ?? 'sandman-test/workspace:latest';

const dir = mkdtempSync(path.join(tmpdir(), 'sandman-bench-'));
const stateFile = path.join(dir, 'state', 'state.json');
const instance = instanceId(stateFile);
const configFile = path.join(dir, 'config.json');
writeFileSync(configFile, '{}');
const env: Record<string, string> = {
  SANDMAN_CONFIG: configFile,
  SANDMAN_STATE_FILE: stateFile,
  SANDMAN_WORKSPACE_ROOT: path.join(dir, 'ws'),
  SANDMAN_IMAGE: IMAGE,
  SANDMAN_NETWORK: 'sandman-bench',
  SANDMAN_SSH_PORT_START: '34000',
  SANDMAN_SSH_PORT_END: '34999',
  SANDMAN_SSH_HOST: '127.0.0.1',
  SANDMAN_BIND_ADDRESS: '127.0.0.1',
  SANDMAN_AUDIT_LOG: path.join(dir, 'audit.jsonl'),
  SANDMAN_NVIDIA_SMI: path.join(dir, 'none'),
  NO_COLOR: '1',
};
const SSH = [
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'LogLevel=ERROR',
  '-o',
  'BatchMode=yes',
];

const sandman = (args: string[], extra: Record<string, string> = {}) =>
  execa('node', [BIN, ...args], {env: {...env, ...extra}, reject: false});
const docker = (args: string[]) => execa('docker', args, {reject: false});

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function sshUntilReady(key: string, port: number, user: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const result = await execa('ssh', [...SSH, '-i', key, '-p', String(port), `${user}@127.0.0.1`, 'true'], {
      reject: false,
    });
    if (result.exitCode === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`ssh to port ${port} never worked`);
}

async function writeState(sessions: SessionRecord[], users: Record<string, UserRecord> = {}): Promise<void> {
  await mkdir(path.dirname(stateFile), {recursive: true});
  writeFileSync(stateFile, JSON.stringify({version: 1, sessions, users}, null, 2));
}

/** 1,000 registered users, each with a key, a group and limits: what a site with people looks like. */
function registeredUsers(count: number): Record<string, UserRecord> {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIL96RGdrcb/Re6QRPqUoTKpW+RLPdXNCUu5dCE3VIQKN bench@laptop';
  return Object.fromEntries(
    Array.from({length: count}, (_, index) => [
      `bench${index}`,
      {
        uid: 20_000 + index,
        added_at: '2026-12-01T00:00:00Z',
        group: null,
        keys: [{line: key, fingerprint: 'SHA256:bench', added_at: '2026-12-01T00:00:00Z'}],
        defaults: {ttl: '2h'},
        limits: {userMaxTtl: '1d'},
      },
    ]),
  );
}

const sessionId = (index: number) => index.toString(16).padStart(12, '0');
/** As sandman names a session's container: teardown removes it by this name. */
const benchContainerName = (index: number) => `sandman-bench${index}-${sessionId(index)}`;

function record(index: number, containerId: string | null, expiresAt: string): SessionRecord {
  const id = sessionId(index);
  return {
    id,
    user: `bench${index}`,
    status: 'running',
    container_id: containerId,
    container_name: benchContainerName(index),
    image: IMAGE,
    ssh_port: 35000 + index,
    ssh_host: '127.0.0.1',
    ssh_private_key_path: null,
    gpu_uuid: null,
    gpu_index: null,
    mig_profile: null,
    mig_created: false,
    mig_gpu_instance: null,
    mig_compute_instance: null,
    uid: 20000 + index,
    workspace: path.join(dir, 'ws', `bench${index}`),
    created_at: '2026-01-01T00:00:00Z',
    expires_at: expiresAt,
    creator_pid: 1,
  };
}

/** Plain containers labelled as this instance's sessions, started 10 at a time. */
async function startContainers(count: number, offset: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 10) {
    const batch = Array.from({length: Math.min(10, count - start)}, (_, k) => offset + start + k);
    const results = await Promise.all(
      batch.map((index) =>
        docker([
          'run',
          '-d',
          '--name',
          benchContainerName(index),
          '--label',
          `${LABELS.instance}=${instance}`,
          '--label',
          `${LABELS.session}=${sessionId(index)}`,
          BASE,
          'sleep',
          'infinity',
        ]),
      ),
    );
    ids.push(...results.map((result) => String(result.stdout).trim()));
  }
  return ids;
}

interface Row {
  name: string;
  sandman: number;
  baseline: number;
  baselineName: string;
  target: number | null;
  unit: string;
}
const rows: Row[] = [];

/** One key for the raw containers' logins, written once. */
let rawKey: {publicKey: string; file: string} | undefined;
function benchKey(): {publicKey: string; file: string} {
  if (!rawKey) {
    const key = generateKeyPair('bench');
    const file = path.join(dir, 'raw-key');
    writeFileSync(file, key.privateKey, {mode: 0o600});
    rawKey = {publicKey: key.publicKey, file};
  }
  return rawKey;
}

/**
 * The true floor's container: sshd with nothing else (no limits, no mounts, no user set-up), root
 * logging in with the key. `extra` adds `docker run` options (a network).
 */
function bareContainer(name: string, port: number, extra: string[] = []): string[] {
  return [
    '--name',
    name,
    '-p',
    `127.0.0.1:${port}:22`,
    ...extra,
    '--entrypoint',
    'sh',
    BASE,
    '-c',
    `mkdir -p /run/sshd /root/.ssh && printf '%s\\n' '${benchKey().publicKey}' > /root/.ssh/authorized_keys && ` +
      'ssh-keygen -q -t ed25519 -N "" -f /run/host_key && ' +
      'exec /usr/sbin/sshd -D -e -h /run/host_key',
  ];
}

/** A session's container as raw Docker makes it: the sessions network, caps, limits, home, user set-up. */
async function sessionContainer(name: string, port: number, user: string): Promise<string[]> {
  const home = path.join(dir, 'raw-home', user);
  await mkdir(home, {recursive: true, mode: 0o700});
  await chown(home, 30000, 30000);
  return [
    '--name',
    name,
    '--network',
    'sandman-bench',
    '-p',
    `127.0.0.1:${port}:22`,
    '--cap-drop',
    'ALL',
    ...SSHD_CAPABILITIES.flatMap((cap) => ['--cap-add', cap]),
    '--security-opt',
    'no-new-privileges:true',
    '--pids-limit',
    '1024',
    '-v',
    `${home}:/home/${user}`,
    '-e',
    `SANDMAN_USER=${user}`,
    '-e',
    'SANDMAN_UID=30000',
    '-e',
    `SANDMAN_AUTHORIZED_KEYS=${benchKey().publicKey}`,
    IMAGE,
  ];
}

/**
 * The container of create-steps' last step (sessionContainer with the host key directory mounted
 * read-only) as the engine's API takes it, for bench/node-client.cjs.
 */
function engineSpec(user: string, port: number, keyDir: string): object {
  return {
    Image: IMAGE,
    Env: [`SANDMAN_USER=${user}`, 'SANDMAN_UID=30000', `SANDMAN_AUTHORIZED_KEYS=${benchKey().publicKey}`],
    ExposedPorts: {'22/tcp': {}},
    HostConfig: {
      NetworkMode: 'sandman-bench',
      PortBindings: {'22/tcp': [{HostIp: '127.0.0.1', HostPort: String(port)}]},
      Binds: [`${path.join(dir, 'raw-home', user)}:/home/${user}`, `${keyDir}:/etc/ssh/sandman:ro`],
      CapDrop: ['ALL'],
      CapAdd: SSHD_CAPABILITIES,
      SecurityOpt: ['no-new-privileges:true'],
      PidsLimit: 1024,
    },
  };
}

/** `docker run -d …`, then `ssh … true` polled until it works; the container is removed after. */
async function runUntilSsh(name: string, port: number, user: string, args: string[]): Promise<number> {
  const time = await timed(async () => {
    const run = await docker(['run', '-d', ...args]);
    if (run.exitCode !== 0) throw new Error(`docker run failed: ${String(run.stderr)}`);
    await sshUntilReady(benchKey().file, port, user);
  });
  await docker(['rm', '-f', name]);
  return time;
}

async function benchCreateToSsh(): Promise<void> {
  const mine: number[] = [];
  const raw: number[] = [];
  const bare: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    mine.push(
      await timed(async () => {
        const created = await sandman(['session', 'create', `ssh${run}`, '--no-gpu', '--json']);
        const body = JSON.parse(String(created.stdout));
        await sshUntilReady(body.ssh_private_key_path, body.ssh_port, `ssh${run}`);
      }),
    );
    await sandman(['session', 'rm', `ssh${run}`]);
    const rawName = `sandman-bench-raw${run}`;
    raw.push(
      await runUntilSsh(rawName, 34999, `raw${run}`, await sessionContainer(rawName, 34999, `raw${run}`)),
    );
    const bareName = `sandman-bench-bare${run}`;
    bare.push(await runUntilSsh(bareName, 34998, 'root', bareContainer(bareName, 34998)));
  }
  rows.push({
    name: 'create → SSH ready',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: 'docker run + ssh poll',
    target: 1.25,
    unit: 'ms',
  });
  rows.push({
    name: 'create → SSH ready (true floor)',
    sandman: median(mine),
    baseline: median(bare),
    baselineName: 'bare docker run -d -p + ssh poll',
    target: 1.25,
    unit: 'ms',
  });
}

/**
 * Where the floor goes: raw Docker, no sandman, one of create's requirements added at each step,
 * each against the true floor measured in the same run (README "Network boundary", "Connecting
 * from a laptop and VS Code"). No targets: these bound what any sandman can reach.
 */
async function benchCreateSteps(): Promise<void> {
  // The sessions network as sandman makes it, for a run without the create row before it.
  const session = await sandman(['session', 'create', 'steps', '--no-gpu', '--no-wait']);
  if (session.exitCode !== 0) throw new Error(`session create failed: ${String(session.stderr)}`);
  await sandman(['session', 'rm', 'steps']);
  // A session's host key directory, as sandman keeps one (README "Files").
  const keyDir = path.join(dir, 'host-key');
  await mkdir(keyDir, {recursive: true, mode: 0o700});
  await execa('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-f',
    path.join(keyDir, 'ssh_host_ed25519_key'),
  ]);
  const steps = {
    floor: [] as number[],
    network: [] as number[],
    session: [] as number[],
    hostKey: [] as number[],
    node: [] as number[],
  };
  const client = {node: [] as number[], docker: [] as number[]};
  for (let run = 0; run < RUNS; run++) {
    const name = `sandman-bench-step${run}`;
    steps.floor.push(await runUntilSsh(name, 34997, 'root', bareContainer(name, 34997)));
    steps.network.push(
      await runUntilSsh(name, 34997, 'root', bareContainer(name, 34997, ['--network', 'sandman-bench'])),
    );
    steps.session.push(
      await runUntilSsh(name, 34997, `step${run}`, await sessionContainer(name, 34997, `step${run}`)),
    );
    // The host key as sandman gives it: its directory mounted read-only where sshd reads it.
    const args = await sessionContainer(name, 34997, `key${run}`);
    steps.hostKey.push(
      await runUntilSsh(name, 34997, `key${run}`, ['-v', `${keyDir}:/etc/ssh/sandman:ro`, ...args]),
    );
    // The same container from a Node process that does nothing else (bench/node-client.cjs).
    const user = `node${run}`;
    await sessionContainer(name, 34997, user);
    const spec = path.join(dir, 'node-client.json');
    writeFileSync(spec, JSON.stringify(engineSpec(user, 34997, keyDir)));
    steps.node.push(
      await timed(async () => {
        const client = await execa(
          'node',
          [path.join(ROOT, 'bench', 'node-client.cjs'), spec, name, '34997'],
          {
            reject: false,
          },
        );
        if (client.exitCode !== 0) throw new Error(`node-client failed: ${String(client.stderr)}`);
        await sshUntilReady(benchKey().file, 34997, user);
      }),
    );
    await docker(['rm', '-f', name]);
    client.node.push(await timed(() => execa('node', ['-e', '0'])));
    client.docker.push(await timed(() => execa('docker', ['--version'])));
  }
  const floor = median(steps.floor);
  const step = (name: string, values: number[]) =>
    rows.push({
      name,
      sandman: median(values),
      baseline: floor,
      baselineName: 'true floor (same run)',
      target: null,
      unit: 'ms',
    });
  step('floor + sessions network', steps.network);
  step('+ limits, home, user set-up', steps.session);
  step('+ host key mounted read-only', steps.hostKey);
  rows.push({
    name: 'the same from a bare Node client',
    sandman: median(steps.node),
    baseline: median(steps.hostKey),
    baselineName: 'create-steps "+ host key mounted read-only"',
    target: null,
    unit: 'ms',
  });
  rows.push({
    name: 'client start: node -e 0',
    sandman: median(client.node),
    baseline: median(client.docker),
    baselineName: 'docker --version',
    target: null,
    unit: 'ms',
  });
}

async function nodeBaseline(): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < RUNS * 2; run++) times.push(await timed(() => execa('node', ['-e', '0'])));
  return median(times);
}

/** Commands that need no Docker round trip: within 1.6x of starting node at all. */
async function benchNoDocker(node: number): Promise<void> {
  const future = '2099-01-01T00:00:00Z';
  await writeState(
    Array.from({length: 1000}, (_, index) => record(index, `c${index}`, future)),
    registeredUsers(1000),
  );
  const commands: Array<[string, string[], number]> = [
    ['session ls --json (1,000 sessions, 1,000 users)', ['session', 'ls', '--json'], 0],
    ['session show (1,000 sessions, 1,000 users)', ['session', 'show', 'bench500'], 0],
    ['user show (1,000 users)', ['user', 'show', 'bench500'], 0],
    ['gpu ls, no nvidia-smi', ['gpu', 'ls'], 6],
  ];
  for (const [name, args, exitCode] of commands) {
    const times: number[] = [];
    for (let run = 0; run < RUNS * 2; run++) {
      times.push(
        await timed(async () => {
          const result = await sandman(args);
          if (result.exitCode !== exitCode)
            throw new Error(`${name}: exit ${result.exitCode} ${result.stderr}`);
        }),
      );
    }
    rows.push({
      name,
      sandman: median(times),
      baseline: node,
      baselineName: 'node -e 0',
      target: 1.6,
      unit: 'ms',
    });
  }
}

/** Idle reaps over `count` live sessions (with 100 registered users and an empty queue): median ms. */
async function idleReaps(count: number, offset: number): Promise<number> {
  const ids = await startContainers(count, offset);
  await writeState(
    ids.map((id, index) => record(offset + index, id, '2099-01-01T00:00:00Z')),
    registeredUsers(100),
  );
  const times: number[] = [];
  try {
    // A bench run without a create before it has no firewall rules yet: the first reap puts them
    // in (README "Network boundary"); the reaps measured must find nothing to do.
    await sandman(['reap']);
    for (let run = 0; run < RUNS * 2; run++) {
      const result = await sandman(['reap', '--json']);
      if (JSON.parse(String(result.stdout)).items.length !== 0)
        throw new Error(`reap found work: ${result.stdout}`);
      times.push(await timed(() => sandman(['reap'])));
    }
  } finally {
    await docker(['rm', '-f', ...ids]);
    await writeState([]);
  }
  return median(times);
}

async function benchIdleReap(node: number): Promise<void> {
  rows.push({
    name: 'reap, nothing to do (50 live, 100 users)',
    sandman: await idleReaps(50, 0),
    baseline: node,
    baselineName: 'node -e 0',
    target: 2,
    unit: 'ms',
  });
}

/** An idle reap costs the same over 300 live sessions as over 10 (issue "speed after this round"). */
async function benchReapFlat(): Promise<void> {
  const few = await idleReaps(10, 0);
  const many = await idleReaps(300, 0);
  rows.push({
    name: 'reap, nothing to do: 300 vs 10 live',
    sandman: many,
    baseline: few,
    baselineName: 'the same reap over 10 live sessions',
    target: 1.3,
    unit: 'ms',
  });
}

/**
 * create → SSH for a registered user (keys, defaults, limits; the queue checked) against the same
 * create for a name with no record, alternating run by run.
 */
async function benchCreateRegistered(): Promise<void> {
  const key = generateKeyPair('bench-user');
  const keyFile = path.join(dir, 'registered.pub');
  const privateFile = path.join(dir, 'registered');
  writeFileSync(keyFile, key.publicKey + '\n');
  writeFileSync(privateFile, key.privateKey, {mode: 0o600});
  const added = await sandman([
    'user',
    'add',
    'member',
    '--ssh-key',
    keyFile,
    '--no-gpu',
    '--ttl',
    '2h',
    '--queue',
    'yes',
  ]);
  if (added.exitCode !== 0) throw new Error(`user add failed: ${String(added.stderr)}`);
  const mine: number[] = [];
  const plain: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    mine.push(
      await timed(async () => {
        const created = await sandman(['session', 'create', 'member', '--json']);
        if (created.exitCode !== 0) throw new Error(`create failed: ${String(created.stdout)}`);
        await sshUntilReady(privateFile, JSON.parse(String(created.stdout)).ssh_port, 'member');
      }),
    );
    await sandman(['session', 'rm', 'member']);
    plain.push(
      await timed(async () => {
        const created = await sandman(['session', 'create', `plain${run}`, '--no-gpu', '--json']);
        const body = JSON.parse(String(created.stdout));
        await sshUntilReady(body.ssh_private_key_path, body.ssh_port, `plain${run}`);
      }),
    );
    await sandman(['session', 'rm', `plain${run}`]);
  }
  await sandman(['user', 'rm', 'member']);
  rows.push({
    name: 'create → SSH, registered user',
    sandman: median(mine),
    baseline: median(plain),
    baselineName: 'the same create, no user record',
    target: 1.05,
    unit: 'ms',
  });
}

async function benchMassReap(): Promise<void> {
  const mine: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const ids = await startContainers(100, 0);
    await writeState(ids.map((id, index) => record(index, id, '2020-01-01T00:00:00Z')));
    mine.push(
      await timed(async () => {
        const result = await sandman(['reap']);
        if (result.exitCode !== 0) throw new Error(`reap failed: ${result.stdout} ${result.stderr}`);
      }),
    );
    // A reap that left them would time nothing.
    const left = await docker(['ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`]);
    if (String(left.stdout).trim() !== '') throw new Error(`reap left containers: ${String(left.stdout)}`);
    const again = await startContainers(100, 0);
    raw.push(await timed(() => docker(['rm', '-f', ...again])));
  }
  rows.push({
    name: 'reap 100 expired sessions',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: 'docker rm -f (100 containers)',
    target: 1.3,
    unit: 'ms',
  });
}

async function benchConcurrentCreates(): Promise<void> {
  const mine: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    mine.push(
      await timed(() =>
        Promise.all(
          Array.from({length: 20}, (_, k) =>
            sandman(['session', 'create', `many${k}`, '--no-gpu', '--no-wait']),
          ),
        ),
      ),
    );
    await sandman(['session', 'rm', '--all', '--yes']);
    raw.push(
      await timed(() =>
        Promise.all(
          Array.from({length: 20}, (_, k) =>
            docker([
              'run',
              '-d',
              '--name',
              `sandman-bench-many${k}`,
              '--network',
              'sandman-bench',
              '-p',
              `127.0.0.1:${34900 + k}:22`,
              '-e',
              'SANDMAN_USER=x',
              '-e',
              'SANDMAN_UID=30001',
              '-e',
              'SANDMAN_AUTHORIZED_KEYS=x',
              IMAGE,
            ]),
          ),
        ),
      ),
    );
    await docker(['rm', '-f', ...Array.from({length: 20}, (_, k) => `sandman-bench-many${k}`)]);
  }
  rows.push({
    name: '20 creates at once (--no-wait)',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: '20 docker run -d at once',
    target: 1.3,
    unit: 'ms',
  });
}

async function benchPeakMemory(): Promise<void> {
  const peaks: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const result = await execa(
      'node',
      [
        '--import',
        path.join(ROOT, 'bench', 'peak-rss.mjs'),
        BIN,
        'session',
        'create',
        `mem${run}`,
        '--no-gpu',
      ],
      {env, reject: false},
    );
    peaks.push(Number(/peak-rss-kib (\d+)/.exec(String(result.stderr))?.[1]) / 1024);
    await sandman(['session', 'rm', `mem${run}`]);
  }
  rows.push({
    name: 'peak memory of session create',
    sandman: median(peaks),
    baseline: 120,
    baselineName: 'target',
    target: 1,
    unit: 'MiB',
  });
}

/** A year of audit lines: 500,000 of them, summarised by `sandman usage`. */
async function benchUsage(): Promise<void> {
  const file = path.join(dir, 'usage-audit.jsonl');
  const start = Date.parse('2025-11-24T00:00:00Z');
  const lines: string[] = [];
  for (let index = 0; lines.length < 500_000; index++) {
    const session = index.toString(16).padStart(12, '0');
    const user = `user${index % 200}`;
    const created = start + index * 189_000;
    const base = {actor: 'root', session, user, result: 'ok'};
    lines.push(
      JSON.stringify({
        time: new Date(created).toISOString(),
        ...base,
        action: 'create',
        mig_profile: '3g.20gb',
        gpu_uuid: `MIG-${index % 14}`,
        gpu_fraction: 3 / 7,
        expires_at: new Date(created + 7_200_000).toISOString(),
      }),
      JSON.stringify({
        time: new Date(created + 3_600_000).toISOString(),
        ...base,
        action: 'extend',
        expires_at: new Date(created + 10_800_000).toISOString(),
      }),
      JSON.stringify({
        time: new Date(created + 9_000_000).toISOString(),
        ...base,
        action: index % 2 ? 'rm' : 'reap',
        reason: 'expired',
      }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    times.push(
      await timed(async () => {
        const result = await sandman(['usage', '--since', '400d', '--json'], {SANDMAN_AUDIT_LOG: file});
        if (result.exitCode !== 0) throw new Error(`usage failed: ${result.stderr}`);
      }),
    );
  }
  rows.push({
    name: 'usage, 500,000 audit lines',
    sandman: median(times),
    baseline: 2000,
    baselineName: 'target',
    target: 1,
    unit: 'ms',
  });
}

/**
 * The SSH gateway (README "The SSH gateway") under systemd-socket-activate, one process per
 * connection as systemd runs it: a warm connect against ssh to the session's own port, and a
 * connect that starts the session against session create followed by that ssh.
 */
async function benchGateway(): Promise<void> {
  const port = 34990;
  const key = generateKeyPair('gateway-bench');
  const keyFile = path.join(dir, 'gateway-key');
  writeFileSync(keyFile, key.privateKey, {mode: 0o600});
  writeFileSync(`${keyFile}.pub`, key.publicKey + '\n');
  const added = await sandman(['user', 'add', 'gw', '--ssh-key', `${keyFile}.pub`, '--no-gpu']);
  if (added.exitCode !== 0) throw new Error(`user add failed: ${String(added.stderr)}`);
  const activator = execa(
    'systemd-socket-activate',
    [
      '--accept',
      '-l',
      `127.0.0.1:${port}`,
      ...Object.entries(env).flatMap(([name, value]) => ['-E', `${name}=${value}`]),
      process.execPath,
      BIN,
      'gateway',
    ],
    {reject: false},
  );
  const through = () =>
    execa('ssh', [...SSH, '-i', keyFile, '-p', String(port), 'gw@127.0.0.1', 'true'], {reject: false});
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const first = await through();
    if (first.exitCode !== 0) throw new Error(`the gateway did not let gw in: ${String(first.stderr)}`);
    const shown = JSON.parse(String((await sandman(['session', 'show', 'gw', '--json'])).stdout)) as {
      ssh_port: number;
    };
    const direct = () =>
      execa('ssh', [...SSH, '-i', keyFile, '-p', String(shown.ssh_port), 'gw@127.0.0.1', 'true'], {
        reject: false,
      });
    const warm: number[] = [];
    const own: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      warm.push(await timed(through));
      own.push(await timed(direct));
    }
    rows.push({
      name: 'gateway ssh, session running',
      sandman: median(warm),
      baseline: median(own),
      baselineName: "ssh to the session's own port",
      target: 1.5,
      unit: 'ms',
    });
    const cold: number[] = [];
    const createThenSsh: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await sandman(['session', 'rm', 'gw']);
      cold.push(await timed(through));
      await sandman(['session', 'rm', 'gw']);
      createThenSsh.push(
        await timed(async () => {
          const created = JSON.parse(
            String((await sandman(['session', 'create', 'gw', '--no-gpu', '--json'])).stdout),
          ) as {ssh_port: number};
          await execa('ssh', [...SSH, '-i', keyFile, '-p', String(created.ssh_port), 'gw@127.0.0.1', 'true']);
        }),
      );
    }
    rows.push({
      name: 'gateway ssh, session started by it',
      sandman: median(cold),
      baseline: median(createThenSsh),
      baselineName: 'session create, then ssh to its port',
      target: 1.3,
      unit: 'ms',
    });
  } finally {
    await sandman(['session', 'rm', 'gw']);
    activator.kill();
    await activator;
  }
}

/**
 * `session start` of a stopped session whose device is still free (README "Stop and start")
 * against what it must do at least: `docker start` of that container and the wait for SSH.
 */
async function benchStopStart(): Promise<void> {
  const created = await sandman(['session', 'create', 'pause', '--no-gpu', '--json']);
  if (created.exitCode !== 0) throw new Error(`session create failed: ${String(created.stderr)}`);
  const session = JSON.parse(String(created.stdout)) as {
    container_id: string;
    ssh_port: number;
    ssh_private_key_path: string;
  };
  const mine: number[] = [];
  const raw: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      await sandman(['session', 'stop', 'pause']);
      mine.push(
        await timed(async () => {
          const started = await sandman(['session', 'start', 'pause']);
          if (started.exitCode !== 0) throw new Error(`session start failed: ${String(started.stderr)}`);
          await sshUntilReady(session.ssh_private_key_path, session.ssh_port, 'pause');
        }),
      );
      await docker(['stop', '-t', '10', session.container_id]);
      raw.push(
        await timed(async () => {
          await docker(['start', session.container_id]);
          await sshUntilReady(session.ssh_private_key_path, session.ssh_port, 'pause');
        }),
      );
    }
  } finally {
    await sandman(['session', 'rm', 'pause']);
  }
  rows.push({
    name: 'session start, same device',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: 'docker start + ssh poll',
    target: 1.3,
    unit: 'ms',
  });
}

/**
 * create → SSH with a home quota against the same create without one (README "Disk quotas"):
 * btrfs on a loop-mounted btrfs made here, loop images on this machine's filesystem.
 */
async function benchQuota(): Promise<void> {
  const image = path.join(dir, 'btrfs.img');
  const mnt = path.join(dir, 'btrfs');
  await mkdir(mnt, {recursive: true});
  await execa('truncate', ['-s', '2G', image]);
  await execa('mkfs.btrfs', ['-q', image]);
  await execa('mount', ['-o', 'loop', image, mnt]);
  const createToSsh = async (user: string, extra: Record<string, string>) =>
    timed(async () => {
      const created = await sandman(['session', 'create', user, '--no-gpu', '--json'], extra);
      if (created.exitCode !== 0) throw new Error(`session create failed: ${String(created.stderr)}`);
      const body = JSON.parse(String(created.stdout));
      await sshUntilReady(body.ssh_private_key_path, body.ssh_port, user);
    });
  try {
    for (const [name, quota, plain] of [
      [
        'btrfs',
        {SANDMAN_WORKSPACE_ROOT: path.join(mnt, 'ws'), SANDMAN_WORKSPACE_QUOTA: '1g'},
        {SANDMAN_WORKSPACE_ROOT: path.join(mnt, 'ws')},
      ],
      ['loop', {SANDMAN_QUOTA_MODE: 'loop', SANDMAN_WORKSPACE_QUOTA: '1g'}, {}],
    ] as const) {
      const mine: number[] = [];
      const without: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        // A new user each run: the first create of a home is the one that makes its quota.
        mine.push(await createToSsh(`q${name}${run}`, quota));
        without.push(await createToSsh(`p${name}${run}`, plain));
        await sandman(['session', 'rm', `q${name}${run}`, `p${name}${run}`], quota);
      }
      rows.push({
        name: `create → SSH, ${name} quota`,
        sandman: median(mine),
        baseline: median(without),
        baselineName: 'the same create without a quota',
        target: 1.2,
        unit: 'ms',
      });
    }
  } finally {
    await sandman(['session', 'rm', '--all', '--yes']);
    const homes = path.join(String(env.SANDMAN_WORKSPACE_ROOT));
    for (let run = 0; run < RUNS; run++)
      await execa('umount', [path.join(homes, `qloop${run}`)], {reject: false});
    await execa('umount', [mnt], {reject: false});
  }
}

async function main(): Promise<void> {
  if ((await docker(['image', 'inspect', IMAGE])).exitCode !== 0) {
    await sandman(['image', 'build', '--base', BASE, '--tag', IMAGE]);
  }
  // BENCH_ONLY=ls,reap-idle runs a subset while working on one figure.
  const only = process.env.BENCH_ONLY?.split(',');
  const want = (name: string) => !only || only.includes(name);
  const node = await nodeBaseline();
  if (want('create')) await benchCreateToSsh();
  if (want('create-steps')) await benchCreateSteps();
  if (want('ls')) await benchNoDocker(node);
  if (want('reap-idle')) await benchIdleReap(node);
  if (want('reap-flat')) await benchReapFlat();
  if (want('create-user')) await benchCreateRegistered();
  if (want('reap-mass')) await benchMassReap();
  if (want('concurrent')) await benchConcurrentCreates();
  if (want('memory')) await benchPeakMemory();
  if (want('usage')) await benchUsage();
  if (want('gateway')) await benchGateway();
  if (want('stop-start')) await benchStopStart();
  if (want('quota')) await benchQuota();
  /** A row of create against another row's figure measured in the same run, when both ran. */
  const createAgainst = (name: string, row: string, baselineName: string, target: number | null) => {
    const create = rows.find((found) => found.name === 'create → SSH ready');
    const baseline = rows.find((found) => found.name === row);
    if (create && baseline)
      rows.push({
        name,
        sandman: create.sandman,
        baseline: baseline.sandman,
        baselineName,
        target,
        unit: 'ms',
      });
  };
  // create against everything create must do, measured raw in the same run (create-steps).
  createAgainst(
    'create → SSH vs its raw steps',
    '+ host key mounted read-only',
    'create-steps "+ host key mounted read-only"',
    1.15,
  );
  // How much of that is sandman's own work: the same create from a Node client that does nothing else.
  createAgainst(
    'create → SSH vs a bare Node client',
    'the same from a bare Node client',
    'bench/node-client.cjs (create-steps)',
    null,
  );
  const pad = (text: string, width: number) => text.padEnd(width);
  console.log(
    `\nsandman benchmarks: ${RUNS} runs each (median), ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}\n`,
  );
  console.log(
    `${pad('measure', 40)}${pad('sandman', 12)}${pad('baseline', 12)}${pad('ratio', 8)}${pad('target', 9)}result   baseline`,
  );
  for (const row of rows) {
    const ratio = row.sandman / row.baseline;
    const result = row.target === null ? '-' : ratio <= row.target ? 'met' : 'MISSED';
    console.log(
      `${pad(row.name, 40)}${pad(`${row.sandman.toFixed(row.unit === 'MiB' ? 1 : 0)} ${row.unit}`, 12)}${pad(`${row.baseline.toFixed(0)} ${row.unit}`, 12)}` +
        `${pad(ratio.toFixed(2) + 'x', 8)}${pad(row.target === null ? '-' : `≤${row.target}x`, 9)}${pad(result, 9)}${row.baselineName}`,
    );
  }
}

try {
  await main();
} finally {
  await sandman(['session', 'rm', '--all', '--yes']);
  const leftovers = await docker(['ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`]);
  const ids = String(leftovers.stdout).split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', ...ids]);
  await docker(['network', 'rm', 'sandman-bench']);
  // The network policy's chains stay after the network (by design): the bench's go with it.
  await removeFirewallChains(instance);
  await rm(dir, {recursive: true, force: true});
}
