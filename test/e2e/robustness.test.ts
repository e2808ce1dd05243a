import {spawn} from 'node:child_process';
import {chmod, mkdir, readFile, utimes, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN} from '../helpers/constants.js';
import {killAtFaultPoint} from '../helpers/fault-point.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, sshRun, type CliResult, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 33_100, portCount: 100});
});
afterAll(async () => {
  await sandbox.cleanup();
});

interface Created {
  session_id: string;
  container_id: string;
  ssh_port: number;
  gpu_uuid: string | null;
}

/** What Docker runs for this sandbox, compared with what the state file says. */
async function expectStateAgreesWithDocker(): Promise<void> {
  const state = await readState(sandbox.stateFile);
  const containers = await sandbox.containers();
  expect(state.sessions.map((session) => session.container_id).sort()).toEqual([...containers].sort());
  const listed = await sandbox.json<Array<{session_id: string}>>(['session', 'ls']);
  expect(listed.body.map((session) => session.session_id).sort()).toEqual(
    state.sessions.map((s) => s.id).sort(),
  );
}

describe('concurrency', () => {
  it('30 creates for distinct users at once: each succeeds or exits 5, no port twice, state valid', async () => {
    const results = await Promise.all(
      Array.from({length: 30}, (_, index) =>
        sandbox.json<Created>(['session', 'create', `crowd${index}`, '--no-gpu', '--no-wait']),
      ),
    );
    for (const result of results) expect([0, 5]).toContain(result.exitCode);
    const ok = results.filter((result) => result.exitCode === 0).map((result) => result.body);
    expect(ok.length).toBeGreaterThanOrEqual(25);
    expect(new Set(ok.map((session) => session.ssh_port)).size).toBe(ok.length);
    await expectStateAgreesWithDocker();
    expect((await sandbox.run(['session', 'rm', '--all', '--yes'])).exitCode).toBe(0);
    expect(await sandbox.containers()).toEqual([]);
  });

  it('12 creates at once on a host with 8 whole GPUs: 8 get distinct GPUs, 4 exit 5', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'rtx-pro-6000-x8-no-mig');
    const results = await Promise.all(
      Array.from({length: 12}, (_, index) =>
        sandbox.json<Created>(['session', 'create', `gpu${index}`, '--no-wait'], {env}),
      ),
    );
    const ok = results.filter((result) => result.exitCode === 0).map((result) => result.body);
    expect(ok).toHaveLength(8);
    expect(results.filter((result) => result.exitCode === 5)).toHaveLength(4);
    expect(new Set(ok.map((session) => session.gpu_uuid)).size).toBe(8);
    await expectStateAgreesWithDocker();
    expect((await sandbox.run(['session', 'rm', '--all', '--yes'])).exitCode).toBe(0);
  });

  it('10 creates at once for the same user: exactly one succeeds, the rest exit 4', async () => {
    const results = await Promise.all(
      Array.from({length: 10}, () =>
        sandbox.json<Created>(['session', 'create', 'samesame', '--no-gpu', '--no-wait']),
      ),
    );
    expect(results.filter((result) => result.exitCode === 0)).toHaveLength(1);
    expect(results.filter((result) => result.exitCode === 4)).toHaveLength(9);
    await expectStateAgreesWithDocker();
    expect((await sandbox.run(['session', 'rm', 'samesame'])).exitCode).toBe(0);
  });
});

describe('crashes', () => {
  it.each(['reserved', 'container-created', 'before-commit'])(
    'a create killed with SIGKILL at "%s" is cleaned by one reap, and the user can start again',
    async (point) => {
      const gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
      await killAtFaultPoint(
        ['session', 'create', 'victim', '--profile', '1g.5gb', '--no-wait'],
        {...sandbox.env, ...gpu},
        point,
      );
      expect((await readState(sandbox.stateFile)).sessions.map((session) => session.status)).toEqual([
        'creating',
      ]);

      const reap = await sandbox.json<{items: Array<{reason: string; result: string}>}>(['reap'], {env: gpu});
      expect(reap.body.items).toEqual([expect.objectContaining({reason: 'stale', result: 'done'})]);
      expect(await sandbox.containers()).toEqual([]);
      expect(await sandbox.keyFiles()).toEqual([]);
      expect((await readState(sandbox.stateFile)).sessions).toEqual([]);
      const again = await sandbox.json<Created>(
        ['session', 'create', 'victim', '--profile', '1g.5gb', '--no-wait'],
        {env: gpu},
      );
      expect(again.exitCode).toBe(0);
      expect(again.body.gpu_uuid).toBe('MIG-20301a31-77fa-59ec-b0b8-7ef543821f29');
      expect(again.body.ssh_port).toBe(33_100);
      expect((await sandbox.run(['session', 'rm', 'victim'], {env: gpu})).exitCode).toBe(0);
    },
  );

  it('Ctrl-C during create undoes what was started', async () => {
    const child = spawn('node', [BIN, 'session', 'create', 'interrupted', '--no-gpu'], {
      env: {...process.env, ...sandbox.env, SANDMAN_FAULT_POINT: 'container-created'},
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('sandman-fault-point')) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('exit', (exit) => resolve(exit)));
    expect(code).toBe(130);
    expect(stderr).toContain('SIGINT received, undoing');
    expect(await sandbox.containers()).toEqual([]);
    expect((await readState(sandbox.stateFile)).sessions).toEqual([]);
  });
});

describe('the Docker engine is gone', () => {
  it('every command that needs Docker exits 6 and the state file stays byte-for-byte the same', async () => {
    expect((await sandbox.run(['session', 'create', 'steady', '--no-gpu', '--no-wait'])).exitCode).toBe(0);
    const before = await readFile(sandbox.stateFile);
    const dead = {DOCKER_HOST: 'unix:///nonexistent/docker.sock'};
    const commands = [
      ['session', 'create', 'newcomer', '--no-gpu'],
      ['session', 'rm', 'steady'],
      ['session', 'rm', '--all', '--yes'],
      ['session', 'logs', 'steady'],
      ['reap'],
      ['image', 'build', '--tag', 'sandman-test/never:built'],
    ];
    for (const args of commands) {
      const result = await sandbox.json<{error: {code: string; message: string}}>(args, {env: dead});
      expect(result.exitCode, args.join(' ')).toBe(6);
      expect(result.body.error.message).toContain(
        'Docker engine unreachable at unix:///nonexistent/docker.sock',
      );
    }
    expect(await readFile(sandbox.stateFile)).toEqual(before);
    expect((await sandbox.run(['session', 'rm', 'steady'])).exitCode).toBe(0);
  });
});

describe('a damaged state file', () => {
  it.each([
    ['empty', '', 'is empty', 'restore a backup'],
    ['truncated', '{"version": 1, "sessions": [{"id": "abc", "us', 'is not valid JSON', 'restore a backup'],
    ['not JSON', 'sessions: []\n', 'is not valid JSON', 'restore a backup'],
    [
      'of an unknown version',
      '{"version": "two", "sessions": []}\n',
      'unknown version "two"',
      'restore a backup',
    ],
    [
      'newer than this sandman',
      '{"version": 3, "sessions": []}\n',
      'is version 3, newer than this sandman (version 2): upgrade sandman',
      'install that sandman',
    ],
  ])(
    '%s: exit 7 naming the file, unchanged, and doctor explains the recovery',
    async (_name, text, words, recovery) => {
      const other = createSandbox({portStart: 33_300, portCount: 5});
      try {
        await mkdir(path.dirname(other.stateFile), {recursive: true});
        await writeFile(other.stateFile, text);
        for (const args of [['session', 'ls'], ['session', 'create', 'x', '--no-gpu'], ['reap']]) {
          const result = await other.json<{error: {message: string}}>(args);
          expect(result.exitCode).toBe(7);
          expect(result.body.error.message).toContain(other.stateFile);
          expect(result.body.error.message).toContain(words);
        }
        expect(await readFile(other.stateFile, 'utf8')).toBe(text);
        const doctor = await other.run(['doctor']);
        expect(doctor.stdout).toContain(recovery);
      } finally {
        await other.cleanup();
      }
    },
  );

  it('unreadable for the user running sandman: exit 7', async () => {
    const other = createSandbox({portStart: 33_310, portCount: 5});
    try {
      await mkdir(path.dirname(other.stateFile), {recursive: true});
      await writeFile(other.stateFile, '{"version": 1, "sessions": []}\n');
      await chmod(other.stateFile, 0o600);
      await chmod(other.dir, 0o755);
      await chmod(path.dirname(other.stateFile), 0o755);
      const result = await execa(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', 'node', BIN, 'session', 'ls', '--json'],
        {
          env: {...other.env},
          reject: false,
        },
      );
      expect(result.exitCode).toBe(7);
      expect(JSON.parse(result.stdout).error.message).toMatch(
        new RegExp(`cannot read state file ${other.stateFile}.*EACCES`),
      );
    } finally {
      await other.cleanup();
    }
  });

  it('a lock held by a live process makes others wait, then exit 7 after lockTimeout', async () => {
    await mkdir(`${sandbox.stateFile}.lock`, {recursive: true});
    // Keep it fresh, as a live holder does.
    const keeper = setInterval(
      () => void utimes(`${sandbox.stateFile}.lock`, new Date(), new Date()).catch(() => undefined),
      500,
    );
    try {
      const started = Date.now();
      const result = await sandbox.json<{error: {message: string}}>(
        ['session', 'create', 'waiter', '--no-gpu', '--no-wait'],
        {
          env: {SANDMAN_LOCK_TIMEOUT: '2s'},
        },
      );
      expect(result.exitCode).toBe(7);
      expect(result.body.error.message).toContain('locked by another sandman process; gave up after 2s');
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    } finally {
      clearInterval(keeper);
    }
    // Left behind (its holder died): taken over once stale.
    const old = new Date(Date.now() - 60_000);
    await utimes(`${sandbox.stateFile}.lock`, old, old);
    const result = await sandbox.json<Created>(['session', 'create', 'waiter', '--no-gpu', '--no-wait']);
    expect(result.exitCode).toBe(0);
    expect((await sandbox.run(['session', 'rm', 'waiter'])).exitCode).toBe(0);
  });
});

describe('hostile input', () => {
  const privateKey =
    '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n';
  // [what, argv, env, config file, text the message must contain]
  const cases: Array<[string, string[], Record<string, string>, unknown, string]> = [
    ['path traversal in user', ['session', 'create', '../../etc'], {}, undefined, '../../etc'],
    ['slash in user', ['session', 'create', 'a/b'], {}, undefined, 'a/b'],
    ['absolute path as user', ['session', 'create', '/root'], {}, undefined, '/root'],
    ['dot user', ['session', 'create', '.'], {}, undefined, '"."'],
    ['shell metacharacters in user', ['session', 'create', 'a;rm -rf /'], {}, undefined, 'a;rm -rf /'],
    ['command substitution in user', ['session', 'create', '$(id)'], {}, undefined, '$(id)'],
    ['backticks in user', ['session', 'create', '`id`'], {}, undefined, '`id`'],
    ['pipe in user', ['session', 'create', 'a|b'], {}, undefined, 'a|b'],
    ['space in user', ['session', 'create', 'al ice'], {}, undefined, 'al ice'],
    ['newline in user', ['session', 'create', 'al\nice'], {}, undefined, 'invalid user name'],
    ['upper case user', ['session', 'create', 'Alice'], {}, undefined, 'Alice'],
    ['leading digit user', ['session', 'create', '1alice'], {}, undefined, '1alice'],
    ['leading dash user', ['session', 'create', '--', '-alice'], {}, undefined, '-alice'],
    ['Cyrillic look-alike user', ['session', 'create', 'аlice'], {}, undefined, 'аlice'],
    ['Greek look-alike user', ['session', 'create', 'αlice'], {}, undefined, 'αlice'],
    ['fullwidth user', ['session', 'create', 'ａlice'], {}, undefined, 'ａlice'],
    ['zero-width joiner in user', ['session', 'create', 'ali\u200dce'], {}, undefined, 'invalid user name'],
    ['33-character user', ['session', 'create', 'a'.repeat(33)], {}, undefined, 'a'.repeat(33)],
    ['4096-character user', ['session', 'create', 'a'.repeat(4096)], {}, undefined, 'invalid user name'],
    ['empty user', ['session', 'create', ''], {}, undefined, 'invalid user name ""'],
    ['reserved root', ['session', 'create', 'root'], {}, undefined, '"root": reserved'],
    ['reserved nobody', ['session', 'create', 'nobody'], {}, undefined, '"nobody": reserved'],
    ['reserved sshd', ['session', 'create', 'sshd'], {}, undefined, '"sshd": reserved'],
    ['reserved systemd-*', ['session', 'create', 'systemd-timesync'], {}, undefined, 'systemd-timesync'],
    ['zero TTL', ['session', 'create', 'u1', '--ttl', '0'], {}, undefined, '"0"'],
    ['zero-minute TTL', ['session', 'create', 'u1', '--ttl', '0m'], {}, undefined, '"0m"'],
    ['negative TTL', ['session', 'create', 'u1', '--ttl=-5m'], {}, undefined, '"-5m"'],
    ['enormous TTL', ['session', 'create', 'u1', '--ttl', '99999999999999999999d'], {}, undefined, 'maxTtl'],
    ['TTL over maxTtl', ['session', 'create', 'u1', '--ttl', '8d'], {}, undefined, 'maxTtl'],
    ['word TTL', ['session', 'create', 'u1', '--ttl', 'forever'], {}, undefined, '"forever"'],
    ['TTL with shell', ['session', 'create', 'u1', '--ttl', '1h;reboot'], {}, undefined, '1h;reboot'],
    [
      'unknown profile',
      ['session', 'create', 'u1', '--profile', '9g.99gb'],
      fakeGpuEnv('/tmp', 'a100-mig-r580'),
      undefined,
      '"9g.99gb"',
    ],
    [
      'profile with separators',
      ['session', 'create', 'u1', '--profile', '1g.5gb,3g.20gb'],
      fakeGpuEnv('/tmp', 'a100-mig-r580'),
      undefined,
      '1g.5gb,3g.20gb',
    ],
    [
      'profile with path',
      ['session', 'create', 'u1', '--profile', '../1g.5gb'],
      fakeGpuEnv('/tmp', 'a100-mig-r580'),
      undefined,
      '../1g.5gb',
    ],
    // No nvidia-smi here: the syntax is checked before anything is asked of it (exit 2, not 6).
    [
      'profile with shell, no nvidia-smi',
      ['session', 'create', 'u1', '--profile', '3g.20gb;rm -rf /'],
      {},
      undefined,
      '3g.20gb;rm -rf /',
    ],
    [
      'profile with path, no nvidia-smi',
      ['session', 'create', 'u1', '--profile', '../../x'],
      {},
      undefined,
      '../../x',
    ],
    [
      'profile with newline, no nvidia-smi',
      ['session', 'create', 'u1', '--profile', '1g.5gb\nx'],
      {},
      undefined,
      'not a MIG profile',
    ],
    [
      'profile, engine down',
      ['session', 'create', 'u1', '--profile', '$(id)'],
      {DOCKER_HOST: 'unix:///nonexistent/docker.sock'},
      undefined,
      '$(id)',
    ],
    [
      'MIG UUID with shell',
      ['session', 'create', 'u1', '--mig-instance', 'MIG-x;id'],
      {},
      undefined,
      'MIG-x;id',
    ],
    ['GPU ref with path', ['session', 'create', 'u1', '--gpu', '../0'], {}, undefined, '../0'],
    [
      'two GPU flags',
      ['session', 'create', 'u1', '--profile', '1g.5gb', '--gpu', '0'],
      {},
      undefined,
      '--gpu',
    ],
    ['--gpu with --no-gpu', ['session', 'create', 'u1', '--gpu', '0', '--no-gpu'], {}, undefined, '--no-gpu'],
    ['image with spaces', ['session', 'create', 'u1', '--image', 'my image'], {}, undefined, 'my image'],
    [
      'image with shell',
      ['session', 'create', 'u1', '--image', 'img;rm -rf /'],
      {},
      undefined,
      'img;rm -rf /',
    ],
    ['image upper case', ['session', 'create', 'u1', '--image', 'Sandman/WS'], {}, undefined, 'Sandman/WS'],
    [
      'env value with newline',
      ['session', 'create', 'u1', '--env', 'A=1\nB=2'],
      {},
      undefined,
      'single line',
    ],
    ['env without =', ['session', 'create', 'u1', '--env', 'JUSTNAME'], {}, undefined, 'JUSTNAME'],
    ['env bad name', ['session', 'create', 'u1', '--env', 'A-B=1'], {}, undefined, 'A-B=1'],
    [
      'env overriding sandman',
      ['session', 'create', 'u1', '--env', 'SANDMAN_USER=root'],
      {},
      undefined,
      'SANDMAN_USER',
    ],
    [
      'env overriding devices',
      ['session', 'create', 'u1', '--env', 'NVIDIA_VISIBLE_DEVICES=all'],
      {},
      undefined,
      'NVIDIA_VISIBLE_DEVICES',
    ],
    [
      'ssh-key given a private key',
      ['session', 'create', 'u1', '--ssh-key', '-'],
      {},
      undefined,
      'PRIVATE key',
    ],
    [
      'ssh-key garbage',
      ['session', 'create', 'u1', '--ssh-key', '/etc/hostname'],
      {},
      undefined,
      '/etc/hostname',
    ],
    [
      'ssh-key missing file',
      ['session', 'create', 'u1', '--ssh-key', '/nonexistent/k.pub'],
      {},
      undefined,
      '/nonexistent/k.pub',
    ],
    ['memory garbage', ['session', 'create', 'u1', '--memory', 'lots'], {}, undefined, '"lots"'],
    ['negative cpus', ['session', 'create', 'u1', '--cpus=-1'], {}, undefined, '"-1"'],
    ['pids zero', ['session', 'create', 'u1', '--pids', '0'], {}, undefined, '"0"'],
    [
      'reversed port range',
      ['session', 'create', 'u1', '--ssh-port-start', '20000', '--ssh-port-end', '10000'],
      {},
      undefined,
      'sshPortStart',
    ],
    [
      'privileged port range',
      ['session', 'create', 'u1', '--ssh-port-start', '22', '--ssh-port-end', '80'],
      {},
      undefined,
      'sshPortStart="22"',
    ],
    ['port over 65535', ['session', 'create', 'u1', '--ssh-port-end', '70000'], {}, undefined, '"70000"'],
    [
      'ssh host with spaces',
      ['session', 'create', 'u1', '--ssh-host', 'evil host'],
      {},
      undefined,
      'evil host',
    ],
    ['env: bad migMode', ['session', 'ls'], {SANDMAN_MIG_MODE: 'greedy'}, undefined, 'SANDMAN_MIG_MODE'],
    [
      'env: reversed ports',
      ['session', 'ls'],
      {SANDMAN_SSH_PORT_START: '30000', SANDMAN_SSH_PORT_END: '29000'},
      undefined,
      'sshPortEnd',
    ],
    [
      'env: bind address',
      ['session', 'ls'],
      {SANDMAN_BIND_ADDRESS: '0.0.0.0; rm'},
      undefined,
      'SANDMAN_BIND_ADDRESS',
    ],
    [
      'env: lock timeout',
      ['session', 'ls'],
      {SANDMAN_LOCK_TIMEOUT: 'never'},
      undefined,
      'SANDMAN_LOCK_TIMEOUT',
    ],
    ['env: max sessions', ['session', 'ls'], {SANDMAN_MAX_SESSIONS: '-3'}, undefined, 'SANDMAN_MAX_SESSIONS'],
    [
      'env: network with slash',
      ['session', 'ls'],
      {SANDMAN_NETWORK: 'host/../x'},
      undefined,
      'SANDMAN_NETWORK',
    ],
    ['config file not JSON', ['session', 'ls'], {}, 'not json {', 'is not valid JSON'],
    ['config file an array', ['session', 'ls'], {}, [1, 2], 'JSON object'],
    ['config unknown key', ['session', 'ls'], {}, {sshPortStrat: 11000}, '"sshPortStrat"'],
    ['config bad type', ['session', 'ls'], {}, {pids: {nested: true}}, 'pids'],
    ['config huge TTL', ['session', 'ls'], {}, {defaultTtl: '30d'}, 'defaultTtl'],
    ['config bad memory', ['session', 'ls'], {}, {memory: '16 gigs'}, 'memory'],
    ['extend by nothing', ['session', 'extend', 'u1', '--ttl', '0'], {}, undefined, '"0"'],
    ['unknown flag', ['session', 'ls', '--everything'], {}, undefined, '--everything'],
    ['rm without target', ['session', 'rm'], {}, undefined, 'missing session'],
    ['build with bad base', ['image', 'build', '--base', 'not an image'], {}, undefined, 'not an image'],
  ];

  it(`refuses ${cases.length} bad inputs with exit 2, naming the value, creating nothing`, async () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    await mkdir(path.dirname(sandbox.stateFile), {recursive: true});
    await writeFile(sandbox.stateFile, '{"version": 1, "sessions": [], "users": {}}\n');
    const before = await readFile(sandbox.stateFile, 'utf8');
    const failures: string[] = [];
    for (const [what, argv, env, config, words] of cases) {
      const runEnv: Record<string, string> = {...env};
      if (config !== undefined) {
        const file = path.join(sandbox.dir, 'hostile-config.json');
        await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config));
        runEnv.SANDMAN_CONFIG = file;
      }
      const input = what === 'ssh-key given a private key' ? privateKey : undefined;
      // --json must come before a "--", after which everything is an argument.
      const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
      const args = [...argv.slice(0, end), '--json', ...argv.slice(end)];
      const result: CliResult = await sandbox.run(args, {env: runEnv, input});
      let body: {error?: {code: string; message: string; exit_code: number}};
      try {
        body = JSON.parse(result.stdout);
      } catch {
        failures.push(`${what}: stdout is not one JSON document: ${result.stdout}`);
        continue;
      }
      if (result.exitCode !== 2 || body.error?.code !== 'INVALID_INPUT' || body.error.exit_code !== 2) {
        failures.push(`${what}: exit ${result.exitCode}, ${result.stdout}`);
      } else if (!body.error.message.includes(words)) {
        failures.push(`${what}: message does not name ${JSON.stringify(words)}: ${body.error.message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(await readFile(sandbox.stateFile, 'utf8')).toBe(before);
    expect(await sandbox.containers()).toEqual([]);
    expect(await sandbox.keyFiles()).toEqual([]);
  });
});

describe('isolation, checked from inside real sessions over SSH', () => {
  interface Full extends Created {
    ssh_private_key_path: string;
    workspace: string;
    uid: number;
  }
  let alice: Full;
  let bob: Full;
  const inside = (who: Full, user: string, command: string) =>
    sshRun(who.ssh_private_key_path, who.ssh_port, user, command);

  beforeAll(async () => {
    alice = (await sandbox.json<Full>(['session', 'create', 'isoalice', '--no-gpu', '--pids', '100'])).body;
    bob = (await sandbox.json<Full>(['session', 'create', 'isobob', '--no-gpu'])).body;
  });
  afterAll(async () => {
    await sandbox.run(['session', 'rm', 'isoalice', 'isobob']);
  });

  it('a logged-in user has no capabilities, NoNewPrivs, no sudo, and su fails', async () => {
    const result = await inside(
      alice,
      'isoalice',
      'grep -E "^(CapEff|NoNewPrivs)" /proc/self/status; command -v sudo || echo no-sudo; su -c true root </dev/null >/dev/null 2>&1; echo "su=$?"',
    );
    expect(result.stdout.split('\n')).toEqual([
      'CapEff:\t0000000000000000',
      'NoNewPrivs:\t1',
      'no-sudo',
      expect.stringMatching(/^su=[1-9]\d*$/),
    ]);
  });

  it('the host key directory is mounted read-only; the user can neither list it, read the key nor write there', async () => {
    const result = await inside(
      alice,
      'isoalice',
      'awk \'$5 == "/etc/ssh/sandman" { print $6 }\' /proc/self/mountinfo | cut -d, -f1; ' +
        'cat /etc/ssh/sandman/ssh_host_ed25519_key >/dev/null 2>&1; echo "read=$?"; ' +
        'touch /etc/ssh/sandman/x 2>/dev/null; echo "write=$?"; ls /etc/ssh/sandman >/dev/null 2>&1; echo "list=$?"',
    );
    expect(result.stdout.split('\n')).toEqual([
      'ro',
      expect.stringMatching(/^read=[1-9]\d*$/),
      expect.stringMatching(/^write=[1-9]\d*$/),
      // Not even listed: the directory is root's (0700), as on the host.
      expect.stringMatching(/^list=[1-9]\d*$/),
    ]);
  });

  it('the session files directory is mounted read-only: the user reads her keys and banner, and changes neither', async () => {
    const result = await inside(
      alice,
      'isoalice',
      'awk \'$5 == "/etc/sandman/session" { print $6 }\' /proc/self/mountinfo | cut -d, -f1; ' +
        'grep -c "^expiry-time=" /etc/sandman/session/authorized_keys; head -1 /etc/motd; ' +
        'echo x >> /etc/sandman/session/authorized_keys 2>/dev/null; echo "append=$?"; ' +
        'touch /etc/sandman/session/x 2>/dev/null; echo "write=$?"',
    );
    expect(result.stdout.split('\n')).toEqual([
      'ro',
      expect.stringMatching(/^[1-9]\d*$/),
      `sandman session ${alice.session_id} for isoalice`,
      expect.stringMatching(/^append=[1-9]\d*$/),
      expect.stringMatching(/^write=[1-9]\d*$/),
    ]);
  });

  it("one session cannot open a TCP connection to another session's container", async () => {
    const bobIp = (
      await execa('docker', [
        'inspect',
        '-f',
        '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}',
        bob.container_id,
      ])
    ).stdout.trim();
    expect(bobIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const probe = (target: string) =>
      `timeout 5 bash -c 'exec 3<>/dev/tcp/${target}/22 && head -c 8 <&3' 2>/dev/null; echo " rc=$?"`;
    // The same probe reaches alice's own sshd, so a refusal below is the network's doing.
    expect((await inside(alice, 'isoalice', probe('127.0.0.1'))).stdout).toBe('SSH-2.0- rc=0');
    expect((await inside(alice, 'isoalice', probe(bobIp))).stdout).toMatch(/^ rc=[1-9]\d*$/);
  });

  it("one user cannot read another's workspace, from the host account or from a container", async () => {
    await inside(bob, 'isobob', 'echo secret > ~/private.txt');
    const fromHost = await execa(
      'setpriv',
      [
        `--reuid=${alice.uid}`,
        `--regid=${alice.uid}`,
        '--clear-groups',
        'cat',
        path.join(bob.workspace, 'private.txt'),
      ],
      {reject: false},
    );
    expect(fromHost.exitCode).not.toBe(0);
    expect(fromHost.stderr).toContain('Permission denied');
    const fromContainer = await inside(
      alice,
      'isoalice',
      'ls /home; cat /home/isobob/private.txt 2>&1 || true',
    );
    expect(fromContainer.stdout.split('\n')[0]).toBe('isoalice');
    expect(fromContainer.stdout).not.toContain('secret');
    const mounts = JSON.parse(
      (await execa('docker', ['inspect', '-f', '{{json .Mounts}}', alice.container_id])).stdout,
    );
    // Her own home, and read-only her own session's host key and session files directories:
    // nothing of bob's. (The engine lists mounts from a map, in no fixed order.)
    const held = mounts.map((mount: {Source: string; RW: boolean}) => [mount.Source, mount.RW]);
    expect(held).toHaveLength(3);
    expect(held).toEqual(
      expect.arrayContaining([
        [alice.workspace, true],
        [path.join(sandbox.keysDir, `${alice.session_id}.host`), false],
        [path.join(sandbox.keysDir, `${alice.session_id}.session`), false],
      ]),
    );
  });

  it('the pids limit contains a fork loop and the host stays responsive', async () => {
    // dash, not bash: bash retries a failed fork for a long time, dash gives up at once.
    const bomb = await inside(
      alice,
      'isoalice',
      "sh -c 'n=0; for i in $(seq 1 300); do sleep 15 & n=$((n+1)); done; wait' >/dev/null 2>&1 & sleep 3; echo started",
    );
    expect(bomb.stdout).toBe('started');
    const current = await pidsInUse(alice.container_id);
    expect(current).toBeGreaterThan(50);
    expect(current).toBeLessThanOrEqual(100);
    const started = Date.now();
    expect((await sandbox.run(['session', 'ls'])).exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(
      (await execa('docker', ['inspect', '-f', '{{.HostConfig.PidsLimit}}', alice.container_id])).stdout,
    ).toBe('100');
  });
});

/** The container's pids cgroup counter, read on the host (cgroup v1 or v2 layouts). */
async function pidsInUse(containerId: string): Promise<number> {
  const candidates = [
    `/sys/fs/cgroup/pids/docker/${containerId}/pids.current`,
    `/sys/fs/cgroup/system.slice/docker-${containerId}.scope/pids.current`,
    `/sys/fs/cgroup/docker/${containerId}/pids.current`,
  ];
  for (const file of candidates) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text !== undefined) return Number(text.trim());
  }
  throw new Error(`no pids cgroup found for ${containerId}`);
}
