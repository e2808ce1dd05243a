import {cp, mkdtemp, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {ROOT} from '../helpers/constants.js';
import {createSandbox, type CliResult, type Sandbox} from '../helpers/sandbox.js';
import {editState, PAST} from '../helpers/state-file.js';

/**
 * Every command has two doors (docs/development/contributing.md "How the CLI is built"): the fast door that skips oclif
 * (cli/fast-door.ts) and the oclif door. Whatever the invocation, both must answer exactly alike:
 * same stdout, stderr and exit code.
 */
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = createSandbox({portStart: 32_600, portCount: 10});
  for (const user of ['alice', 'bob', 'carol']) {
    expect((await sandbox.run(['session', 'create', user, '--no-gpu', '--no-wait'])).exitCode).toBe(0);
  }
  const dave = await sandbox.json(['session', 'create', 'dave', '--no-gpu', '--no-wait']);
  await execa('docker', ['rm', '-f', String(dave.body.container_id)]);
  // Fixed times, so "5s ago" cannot turn into "6s ago" between two runs; carol's session is past its
  // expiry (what a reap removes) and dave's record has lost its container.
  await editState(sandbox.stateFile, (state) => {
    for (const session of state.sessions) {
      session.created_at = '2026-01-01T00:00:00Z';
      session.expires_at = session.user === 'carol' ? PAST : '2099-01-01T00:00:00Z';
    }
  });
});
afterAll(async () => {
  await sandbox.cleanup();
});

/** Run times differ from run to run; nothing else may. */
const normalised = (result: CliResult): CliResult => ({
  ...result,
  stdout: result.stdout.replace(/"duration_ms": \d+/g, '"duration_ms": 0').replace(/\(\d+ ms\)/g, '(N ms)'),
});

async function bothWays(args: string[], env: Record<string, string> = {}) {
  const fast = normalised(await sandbox.run(args, {env}));
  const oclif = normalised(await sandbox.run(args, {env: {...env, SANDMAN_FAST_PATH: '0'}}));
  return {fast, oclif};
}

describe('the fast door answers as the oclif door does', () => {
  const same = [
    ['session', 'ls'],
    ['session', 'ls', '--json'],
    ['session', 'list', '-q'],
    ['session', 'ls', '--user', 'bob', '--json'],
    ['session', 'ls', '--user=nobody'],
    ['session', 'ls', '--expired', '--json'],
    ['session', 'show', 'alice'],
    ['session', 'show', 'bob', '--json'],
    ['session', 'logs', 'alice', '--tail', '3', '--json'],
    ['ssh', 'alice', '--json', '--', 'id', '-un'],
    ['reap', '--dry-run'],
    ['reap', '--dry-run', '--json'],
    ['systemd', 'print'],
    ['systemd', 'print', '--json'],
  ];
  it.each(same.map((args) => [args.join(' '), args]))('%s', async (_name, args) => {
    const {fast, oclif} = await bothWays(args as string[]);
    expect(fast).toEqual(oclif);
    expect(fast.exitCode).toBe(0);
    expect(fast.stdout).not.toBe('');
  });

  it('ends alike: no nvidia-smi for gpu commands (0, nothing listed), unknown session (3), bad input (2), doctor (1)', async () => {
    const cases: Array<[string[], number]> = [
      [['gpu', 'ls'], 0],
      [['gpu', 'ls', '--json'], 0],
      [['gpu', 'list'], 0],
      [['gpu', 'profiles', '--json'], 0],
      [['gpu', 'available'], 0],
      [['session', 'show', 'nobody'], 3],
      [['session', 'show', 'nobody', '--json'], 3],
      [['session', 'rm', 'nobody'], 3],
      [['session', 'extend', 'nobody', '--ttl', '1h', '--json'], 3],
      [['session', 'extend', 'alice', '--ttl', 'soon'], 2],
      [['session', 'rm', '--all'], 2],
      [['session', 'logs', 'alice', '--follow', '--json'], 2],
      [['ssh', 'nobody'], 3],
      [['image', 'build', '--base', 'Not An Image', '--json'], 2],
      [['doctor', '--unit-dir', '/nonexistent', '--cron-file', '/nonexistent'], 1],
    ];
    for (const [args, exitCode] of cases) {
      const {fast, oclif} = await bothWays(args);
      expect(fast, args.join(' ')).toEqual(oclif);
      expect(fast.exitCode, args.join(' ')).toBe(exitCode);
    }
  });

  it('changes sessions alike: extend, rm, and the systemd units written', async () => {
    for (const [user, env] of [
      ['fpext1', {}],
      ['fpext2', {SANDMAN_FAST_PATH: '0'}],
    ] as const) {
      expect((await sandbox.run(['session', 'create', user, '--no-gpu', '--no-wait'])).exitCode).toBe(0);
      const extended = await sandbox.run(['session', 'extend', user, '--ttl', '30m', '--json'], {env});
      expect(extended.exitCode).toBe(0);
      expect(JSON.parse(extended.stdout)).toMatchObject({ssh_user: user, status: 'running'});
      const removed = await sandbox.run(['session', 'rm', user], {env});
      expect(removed.exitCode).toBe(0);
      expect(removed.stdout).toMatch(
        new RegExp(`^Removed [0-9a-f]{12} \\(${user}\\); workspace .*/${user} kept$`),
      );
    }
    const units = {fast: path.join(sandbox.dir, 'units-fast'), oclif: path.join(sandbox.dir, 'units-oclif')};
    const fast = await sandbox.run(['systemd', 'install', '--dir', units.fast]);
    const oclif = await sandbox.run(['systemd', 'install', '--dir', units.oclif], {
      env: {SANDMAN_FAST_PATH: '0'},
    });
    expect(fast.stdout.replaceAll(units.fast, 'DIR')).toBe(oclif.stdout.replaceAll(units.oclif, 'DIR'));
    expect(fast.exitCode).toBe(0);
  });

  it('reports the sessions a dry-run reap would remove, and changes nothing', async () => {
    const {fast} = await bothWays(['reap', '--dry-run', '--json']);
    const report = JSON.parse(fast.stdout) as {items: Array<{user: string; reason: string; result: string}>};
    expect(report.items.map((item) => `${item.user} ${item.reason} ${item.result}`).sort()).toEqual([
      'carol expired would',
      'dave dangling would',
    ]);
    expect((await sandbox.json<unknown[]>(['session', 'ls'])).body).toHaveLength(4);
  });

  it('honours SANDMAN_CONTENT_TYPE=json and --state/--db as oclif does', async () => {
    const env = {SANDMAN_CONTENT_TYPE: 'json'};
    const {fast, oclif} = await bothWays(['session', 'ls'], env);
    expect(fast).toEqual(oclif);
    expect(JSON.parse(fast.stdout)).toHaveLength(4);
    const other = path.join(sandbox.dir, 'other-state.json');
    await writeFile(other, JSON.stringify({version: 1, sessions: [], users: {}}));
    for (const args of [
      ['session', 'ls', '--json', '--state', other],
      ['session', 'ls', '--json', `--db=${other}`],
    ]) {
      const ways = await bothWays(args);
      expect(ways.fast).toEqual(ways.oclif);
      expect(ways.fast.stdout).toBe('[]');
    }
  });

  it('fails the same way: corrupt state (7), bad settings (2), engine unreachable (6)', async () => {
    const corrupt = path.join(sandbox.dir, 'corrupt.json');
    await writeFile(corrupt, '{"version": 1, "sessions": [');
    const cases: Array<[string[], Record<string, string>, number]> = [
      [['session', 'ls', '--state', corrupt], {}, 7],
      [['session', 'ls', '--json', '--state', corrupt], {}, 7],
      [['reap', '--json', '--state', corrupt], {}, 7],
      [['session', 'ls'], {SANDMAN_LOCK_TIMEOUT: 'soon'}, 2],
      [['reap', '--json'], {SANDMAN_LOCK_TIMEOUT: 'soon'}, 2],
      [['reap'], {DOCKER_HOST: 'unix:///nonexistent/docker.sock'}, 6],
      [['reap', '--json'], {DOCKER_HOST: 'unix:///nonexistent/docker.sock'}, 6],
    ];
    for (const [args, env, exitCode] of cases) {
      const {fast, oclif} = await bothWays(args, env);
      expect(fast, args.join(' ')).toEqual(oclif);
      expect(fast.exitCode, args.join(' ')).toBe(exitCode);
    }
  });

  it('creates sessions the same way', async () => {
    // Two users, one each way: the same fields, and the same lines once IDs, ports and times differ.
    const fast = await sandbox.run(['session', 'create', 'fpfast', '--no-gpu', '--no-wait', '--ttl', '2h']);
    const oclif = await sandbox.run(
      ['session', 'create', 'fpoclif', '--no-gpu', '--no-wait', '--ttl', '2h'],
      {
        env: {SANDMAN_FAST_PATH: '0'},
      },
    );
    const shape = (result: CliResult, user: string) => ({
      ...result,
      stdout: result.stdout
        .replaceAll(user, 'USER')
        .replace(/[0-9a-f]{12}/g, 'ID')
        .replace(/-p \d+/, '-p PORT')
        .replace(/\d{4}-\d\d-\d\d \d\d:\d\d UTC \(in [^)]+\)/, 'TIME (in TTL)'),
    });
    expect(shape(fast, 'fpfast')).toEqual(shape(oclif, 'fpoclif'));
    expect(fast.stdout).toMatch(/^✔ Session [0-9a-f]{12} for fpfast is starting\n {2}ssh -i /);

    const json = {
      fast: await sandbox.json(['session', 'create', 'fpjson1', '--no-gpu', '--env', 'A=1', '--env', 'B=2']),
      oclif: await sandbox.json(
        ['session', 'create', 'fpjson2', '--no-gpu', '--env', 'A=1', '--env', 'B=2'],
        {
          env: {SANDMAN_FAST_PATH: '0'},
        },
      ),
    };
    expect(json.fast.exitCode).toBe(0);
    expect(json.oclif.exitCode).toBe(0);
    expect(Object.keys(json.fast.body).sort()).toEqual(Object.keys(json.oclif.body).sort());
    for (const field of ['status', 'gpu_uuid', 'mig_profile', 'image', 'ssh_host']) {
      expect(json.fast.body[field], field).toEqual(json.oclif.body[field]);
    }
    const env = await sandbox.run(['ssh', 'fpjson1', '--', 'printenv', 'A', 'B']);
    expect(env.stdout).toBe('1\n2');
    for (const user of ['fpfast', 'fpoclif', 'fpjson1', 'fpjson2']) {
      expect((await sandbox.run(['session', 'rm', user])).exitCode).toBe(0);
    }
  });

  it('refuses a create the same way', async () => {
    const cases: Array<[string[], Record<string, string>, number]> = [
      [['session', 'create', 'Bad.Name', '--no-gpu'], {}, 2],
      [['session', 'create', 'root', '--no-gpu', '--json'], {}, 2],
      [['session', 'create', 'erin', '--no-gpu', '--ttl', 'soon'], {}, 2],
      [['session', 'create', 'erin', '--no-gpu', '--env', 'NOEQUALS', '--json'], {}, 2],
      [['session', 'create', 'erin', '--no-gpu', '--memory', 'lots'], {}, 2],
      [['session', 'create', 'erin', '--profile', '1g.5gb'], {}, 6],
      [['session', 'create', 'alice', '--no-gpu'], {}, 4],
      [['session', 'create', 'alice', '--no-gpu', '--json'], {}, 4],
      [['session', 'create', 'erin', '--no-gpu', '--image', 'sandman-test/none:latest'], {}, 6],
      [
        ['session', 'create', 'erin', '--no-gpu', '--json'],
        {DOCKER_HOST: 'unix:///nonexistent/docker.sock'},
        6,
      ],
      [['session', 'create', 'erin', '--no-gpu', '--ssh-key', '/nonexistent/key.pub'], {}, 2],
    ];
    for (const [args, env, exitCode] of cases) {
      const {fast, oclif} = await bothWays(args, env);
      expect(fast, args.join(' ')).toEqual(oclif);
      expect(fast.exitCode, args.join(' ')).toBe(exitCode);
    }
    expect((await sandbox.json<unknown[]>(['session', 'ls'])).body).toHaveLength(4);
  });

  it('leaves help and usage errors to oclif', async () => {
    const help = await sandbox.run(['session', 'ls', '--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('USAGE');
    const unknown = await sandbox.run(['reap', '--now']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('--now');
  });

  it('runs without loading oclif at all', async () => {
    // A copy of the installed CLI without the oclif bundle: the fast door still answers every
    // plain invocation; help cannot be had.
    const copy = await mkdtemp(path.join(tmpdir(), 'sandman-fast-'));
    try {
      for (const part of ['bin', 'dist', 'package.json']) {
        await cp(path.join(ROOT, part), path.join(copy, part), {recursive: true});
      }
      await rm(path.join(copy, 'dist', 'bundle'), {recursive: true});
      const env = {...sandbox.env};
      const bin = path.join(copy, 'bin', 'run.js');
      const ls = await execa('node', [bin, 'session', 'ls', '--json'], {env, reject: false});
      expect(ls.exitCode).toBe(0);
      expect(JSON.parse(String(ls.stdout))).toHaveLength(4);
      const reap = await execa('node', [bin, 'reap', '--dry-run', '--json'], {env, reject: false});
      expect(reap.exitCode).toBe(0);
      const show = await execa('node', [bin, 'session', 'show', 'alice', '--json'], {env, reject: false});
      expect(show.exitCode).toBe(0);
      expect(JSON.parse(String(show.stdout))).toMatchObject({ssh_user: 'alice'});
      // Help is oclif's: without the oclif bundle it cannot be answered.
      const help = await execa('node', [bin, 'session', 'ls', '--help'], {env, reject: false});
      expect(help.exitCode).not.toBe(0);
      expect(String(help.stderr)).toContain('dist/bundle/sandman.js');
    } finally {
      await rm(copy, {recursive: true, force: true});
    }
  });
});
