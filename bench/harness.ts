/**
 * The bench's harness (`npm run bench`, bench/bench.ts runs the scenarios in bench/scenarios/): one
 * sandman instance of its own in a temporary directory, the commands it times (sandman, docker),
 * timing and medians, the state and containers the scenarios start from, the raw containers they
 * compare against, the rows they report, and the teardown. Nothing here comes from test/.
 */
import {mkdtempSync, writeFileSync} from 'node:fs';
import {chown, mkdir, rm} from 'node:fs/promises';
import {cpus, tmpdir, totalmem} from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {execa} from 'execa';

import {IptablesFirewall} from '../src/network/adapters/iptables-firewall.js';
import {instanceId, LABELS} from '../src/core/labels.js';
import {SSHD_CAPABILITIES} from '../src/session/session-service.js';
import {generateKeyPair} from '../src/ssh/ssh-keys.js';
import type {SessionRecord, UserRecord} from '../src/state/state-data.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The build every scenario times: this checkout's, or BENCH_BIN's (another build's bin/run.js, e.g.
 * the round's start built in a worktree), so the same scenarios measure two builds in turns.
 */
export const BIN = process.env.BENCH_BIN ?? path.join(ROOT, 'bin', 'run.js');
export const RUNS = Number(process.env.BENCH_RUNS ?? 5);
export const BASE = process.env.SANDMAN_TEST_BASE_IMAGE ?? 'sandman-test/base:bookworm';
export const IMAGE = process.env.SANDMAN_TEST_IMAGE ?? 'sandman-test/workspace:latest';

export const dir = mkdtempSync(path.join(tmpdir(), 'sandman-bench-'));
export const stateFile = path.join(dir, 'state', 'state.json');
export const instance = instanceId(stateFile);
export const configFile = path.join(dir, 'config.json');
writeFileSync(configFile, '{}');
export const env: Record<string, string> = {
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
export const SSH = [
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'LogLevel=ERROR',
  '-o',
  'BatchMode=yes',
];

export const sandman = (args: string[], extra: Record<string, string> = {}, bin = BIN) =>
  execa('node', [bin, ...args], {env: {...env, ...extra}, reject: false});
/**
 * Another build's bin/run.js (e.g. a copy of the build before a change): scenarios that support it
 * time it alternating with this one against the same state, an A/B in one run.
 */
export const OTHER_BIN = process.env.BENCH_OTHER_BIN;
export const docker = (args: string[]) => execa('docker', args, {reject: false});

export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}
export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function sshUntilReady(key: string, port: number, user: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const result = await execa('ssh', [...SSH, '-i', key, '-p', String(port), `${user}@127.0.0.1`, 'true'], {
      reject: false,
    });
    if (result.exitCode === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`ssh to port ${port} never worked`);
}

export async function writeState(
  sessions: SessionRecord[],
  users: Record<string, UserRecord> = {},
): Promise<void> {
  await mkdir(path.dirname(stateFile), {recursive: true});
  writeFileSync(stateFile, JSON.stringify({version: 1, sessions, users}, null, 2));
}

/** 1,000 registered users, each with a key, a group and limits: what a site with people looks like. */
export function registeredUsers(count: number): Record<string, UserRecord> {
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

export const sessionId = (index: number) => index.toString(16).padStart(12, '0');
/** As sandman names a session's container: teardown removes it by this name. */
export const benchContainerName = (index: number) => `sandman-bench${index}-${sessionId(index)}`;

export function record(index: number, containerId: string | null, expiresAt: string): SessionRecord {
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
export async function startContainers(count: number, offset: number): Promise<string[]> {
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

export interface Row {
  name: string;
  sandman: number;
  baseline: number;
  baselineName: string;
  target: number | null;
  unit: string;
}
/** One key for the raw containers' logins, written once. */
let rawKey: {publicKey: string; file: string} | undefined;
export function benchKey(): {publicKey: string; file: string} {
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
export function bareContainer(name: string, port: number, extra: string[] = []): string[] {
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
export async function sessionContainer(name: string, port: number, user: string): Promise<string[]> {
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
export function engineSpec(user: string, port: number, keyDir: string): object {
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
export async function runUntilSsh(name: string, port: number, user: string, args: string[]): Promise<number> {
  const time = await timed(async () => {
    const run = await docker(['run', '-d', ...args]);
    if (run.exitCode !== 0) throw new Error(`docker run failed: ${String(run.stderr)}`);
    await sshUntilReady(benchKey().file, port, user);
  });
  await docker(['rm', '-f', name]);
  return time;
}

export async function nodeBaseline(): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < RUNS * 2; run++) times.push(await timed(() => execa('node', ['-e', '0'])));
  return median(times);
}

/** The table of rows, as `npm run bench` prints it. */
export function printRows(rows: Row[]): void {
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

/** Removes what the bench made: sessions, containers, the network, its firewall chains, its files. */
export async function teardown(): Promise<void> {
  await sandman(['session', 'rm', '--all', '--yes']);
  const leftovers = await docker(['ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`]);
  const ids = String(leftovers.stdout).split('\n').filter(Boolean);
  if (ids.length > 0) await docker(['rm', '-f', ...ids]);
  await docker(['network', 'rm', 'sandman-bench']);
  // The network policy's chains stay after the network (by design): the bench's go with it, as
  // `setup --remove` takes them away.
  await new IptablesFirewall().remove(instance, false).catch((error: Error) => {
    console.error(`the bench's firewall chains stay: ${error.message}`);
  });
  await rm(dir, {recursive: true, force: true});
}
