import {mkdtempSync, writeFileSync} from 'node:fs';
import {readdir, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa, type Options} from 'execa';

import {instanceId, LABELS} from '../../src/core/labels.js';
import {BIN, TEST_IMAGE} from './constants.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  stateFile: string;
  workspaceRoot: string;
  keysDir: string;
  network: string;
  instance: string;
  env: Record<string, string>;
  /** Runs the built CLI as a child process, as a user would. */
  run(
    args: string[],
    options?: {env?: Record<string, string | undefined>; input?: string},
  ): Promise<CliResult>;
  /** Runs it with --json and parses stdout (which must be nothing but one JSON document). */
  json<T = Record<string, unknown>>(
    args: string[],
    options?: {env?: Record<string, string | undefined>},
  ): Promise<{exitCode: number; body: T; stderr: string}>;
  /** Containers Docker has for this sandbox's instance label. */
  containers(): Promise<string[]>;
  keyFiles(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/**
 * An isolated sandman setup: its own state file (so its own instance label), workspace root,
 * network and SSH port block, so test files can run side by side on one engine.
 */
export function createSandbox(options: {
  portStart: number;
  portCount?: number;
  config?: Record<string, unknown>;
  /** Runs the CLI on another host: inside this network namespace, against this engine. */
  host?: {netns: string; dockerHost: string; address: string};
}): Sandbox {
  const dir = mkdtempSync(path.join(tmpdir(), 'sandman-test-'));
  const stateFile = path.join(dir, 'state', 'state.json');
  const workspaceRoot = path.join(dir, 'workspaces');
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(options.config ?? {}));
  const network = `sandman-test-${path.basename(dir).slice(-6).toLowerCase()}`;
  const instance = instanceId(stateFile);
  const env: Record<string, string> = {
    SANDMAN_CONFIG: configFile,
    SANDMAN_STATE_FILE: stateFile,
    SANDMAN_WORKSPACE_ROOT: workspaceRoot,
    SANDMAN_IMAGE: TEST_IMAGE,
    SANDMAN_NETWORK: network,
    SANDMAN_SSH_PORT_START: String(options.portStart),
    SANDMAN_SSH_PORT_END: String(options.portStart + (options.portCount ?? 50) - 1),
    SANDMAN_SSH_HOST: options.host?.address ?? '127.0.0.1',
    SANDMAN_BIND_ADDRESS: options.host?.address ?? '127.0.0.1',
    ...(options.host ? {DOCKER_HOST: options.host.dockerHost} : {}),
    SANDMAN_AUDIT_LOG: path.join(dir, 'audit.jsonl'),
    // No GPU tooling on the test host unless a test points this at the stand-in.
    SANDMAN_NVIDIA_SMI: path.join(dir, 'no-nvidia-smi'),
    NO_COLOR: '1',
  };

  const run: Sandbox['run'] = async (args, runOptions = {}) => {
    const execOptions: Options = {
      reject: false,
      env: {...env, ...runOptions.env},
      extendEnv: true,
      input: runOptions.input,
      stdin: runOptions.input === undefined ? 'ignore' : undefined,
      timeout: 180_000,
    };
    const command = options.host
      ? ['nsenter', `--net=/var/run/netns/${options.host.netns}`, 'node', BIN, ...args]
      : ['node', BIN, ...args];
    const result = await execa(command[0]!, command.slice(1), execOptions);
    return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)};
  };

  return {
    dir,
    stateFile,
    workspaceRoot,
    keysDir: path.join(dir, 'state', 'keys'),
    network,
    instance,
    env,
    run,
    async json(args, runOptions) {
      const result = await run([...args, '--json'], runOptions);
      let body: unknown;
      try {
        body = JSON.parse(result.stdout);
      } catch {
        throw new Error(
          `stdout is not one JSON document (exit ${result.exitCode}):\n${result.stdout}\n--- stderr:\n${result.stderr}`,
        );
      }
      return {exitCode: result.exitCode, body: body as never, stderr: result.stderr};
    },
    async containers() {
      const result = await execa('docker', [
        ...(options.host ? ['-H', options.host.dockerHost] : []),
        'ps',
        '-aq',
        '--no-trunc',
        '--filter',
        `label=${LABELS.instance}=${instance}`,
      ]);
      return result.stdout.split('\n').filter(Boolean);
    },
    async keyFiles() {
      return readdir(path.join(dir, 'state', 'keys')).catch(() => []);
    },
    async cleanup() {
      const ids = await this.containers();
      const engine = options.host ? ['-H', options.host.dockerHost] : [];
      if (ids.length > 0) await execa('docker', [...engine, 'rm', '-f', ...ids], {reject: false});
      const networks = await execa(
        'docker',
        [...engine, 'network', 'ls', '-q', '--filter', `name=^${network}$`],
        {
          reject: false,
        },
      );
      const networkIds = String(networks.stdout).split('\n').filter(Boolean);
      if (networkIds.length > 0)
        await execa('docker', [...engine, 'network', 'rm', ...networkIds], {reject: false});
      await removeFirewallChains(instance);
      await rm(dir, {recursive: true, force: true});
    },
  };
}

/** sandman's chains for one instance, and the hooks that jump to them (left behind by design). */
export async function removeFirewallChains(instance: string): Promise<void> {
  for (const tool of ['iptables', 'ip6tables']) {
    const listing = await execa(tool, ['-w', '5', '-S'], {reject: false});
    const lines = String(listing.stdout).split('\n');
    const ours = lines
      .map((line) => /^-N (SANDMAN-\S+)$/.exec(line)?.[1])
      .filter((chain): chain is string => chain !== undefined && chain.endsWith(`-${instance.slice(0, 8)}`));
    for (const line of lines) {
      const hook = /^-A (\S+) (.* -j (SANDMAN-\S+))$/.exec(line);
      if (hook && ours.includes(hook[3]!))
        await execa(tool, ['-w', '5', '-D', hook[1]!, ...hook[2]!.split(' ')], {reject: false});
    }
    for (const chain of ours) {
      await execa(tool, ['-w', '5', '-F', chain], {reject: false});
      await execa(tool, ['-w', '5', '-X', chain], {reject: false});
    }
  }
}

export const SSH_OPTIONS = [
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'LogLevel=ERROR',
  '-o',
  'BatchMode=yes',
  '-o',
  'IdentitiesOnly=yes',
  '-o',
  'ConnectTimeout=10',
];

/** Host keys checked strictly against nothing but this known_hosts file (`sandman known-hosts`). */
export function strictHostKeyOptions(knownHosts: string): string[] {
  return [
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
  ];
}

/** Logs in with the real OpenSSH client and runs one command. */
export async function sshRun(
  key: string,
  port: number,
  user: string,
  command: string,
  extra: string[] = [],
): Promise<CliResult> {
  const result = await execa(
    'ssh',
    [...SSH_OPTIONS, ...extra, '-i', key, '-p', String(port), `${user}@127.0.0.1`, command],
    {
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
    },
  );
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)};
}
