import {chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {envName, SETTINGS} from '../../src/config/config.js';
import {BIN} from '../helpers/constants.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {markedExample} from '../helpers/doc-examples.js';
import {GatewayUnderTest} from '../helpers/gateway.js';
import {createSandbox, sshRun, strictHostKeyOptions, type Sandbox} from '../helpers/sandbox.js';

/**
 * README examples run as they are written (issue "the first hour"): each block marked
 * `<!-- readme-example: NAME -->` is read from README.md or docs/**\/*.md here (test/helpers/doc-examples.ts), so the text a newcomer copies is
 * the text that is tested. `sandman` is on PATH as a user's install would put it.
 */
interface Example {
  /** `$ ` lines without the prompt; a block without prompts is one script. */
  commands: string[];
  /** Every other non-empty line: what the commands print. */
  output: string[];
}

async function readmeExample(name: string): Promise<Example> {
  const text = (await markedExample(name)).lines.filter((line) => line !== '');
  const prompted = text.some((line) => line.startsWith('$ '));
  return {
    commands: prompted
      ? text.filter((line) => line.startsWith('$ ')).map((line) => line.slice(2))
      : [text.join('\n')],
    output: prompted ? text.filter((line) => !line.startsWith('$ ')) : [],
  };
}

/** Each `$ ` command of a prompted example with the lines it prints, for commands run one by one. */
async function exampleSteps(name: string): Promise<Array<{command: string; output: string[]}>> {
  const steps: Array<{command: string; output: string[]}> = [];
  for (const line of (await markedExample(name)).lines.filter((one) => one !== '')) {
    if (line.startsWith('$ ')) steps.push({command: line.slice(2), output: []});
    else steps.at(-1)!.output.push(line);
  }
  return steps;
}

/** Table columns are padded to the widest cell: compare lines with their runs of spaces as one. */
const squeeze = (lines: string[]) => lines.map((line) => line.replace(/ +/g, ' ').trimEnd()).filter(Boolean);

let work: string;
let bin: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'sandman-readme-'));
  bin = path.join(work, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'sandman'), `#!/bin/sh\nexec node ${BIN} "$@"\n`);
  await chmod(path.join(bin, 'sandman'), 0o755);
});
afterAll(async () => {
  await rm(work, {recursive: true, force: true});
});

/** Runs the commands in one bash, in `cwd`, with `sandman` on PATH. */
async function run(commands: string[], options: {env: Record<string, string>; cwd: string}) {
  const result = await execa('bash', ['-c', commands.join('\n')], {
    env: {...options.env, PATH: `${bin}:${process.env.PATH}`, HOME: '/root'},
    extendEnv: false,
    cwd: options.cwd,
    reject: false,
    timeout: 170_000,
  });
  return {exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr)};
}

describe('README examples', () => {
  it('setup: the commands print what README shows, and doctor agrees', async () => {
    const example = await readmeExample('setup');
    const dir = path.join(work, 'su');
    const image = 'sandman-test/su:latest';
    await execa('docker', ['rmi', '-f', image], {reject: false});
    const commands = example.commands.map((command) => command.replaceAll('/tmp/su', dir));
    const result = await run(commands, {env: {}, cwd: work});
    try {
      expect(result.exitCode, result.stderr).toBe(0);
      expect(squeeze(result.stdout.replaceAll(dir, '/tmp/su').split('\n'))).toEqual(squeeze(example.output));
    } finally {
      const undo = await run(['sandman setup --remove --purge --yes --force'], {
        env: {SANDMAN_CONFIG: `${dir}/config.json`, SANDMAN_STATE_FILE: `${dir}/state/state.json`},
        cwd: work,
      });
      expect(undo.exitCode, undo.stderr).toBe(0);
    }
  });

  it('restore-state: a state file that cannot be read is exit 7; the copy put back works again', async () => {
    const example = await readmeExample('restore-state');
    const dir = path.join(work, 'bk');
    const result = await run(
      example.commands.map((command) => command.replaceAll('/tmp/bk', dir)),
      {env: {}, cwd: work},
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.split('\n').filter(Boolean)).toEqual(example.output);
  });

  describe('with a sandbox', () => {
    let sandbox: Sandbox;
    beforeAll(() => {
      sandbox = createSandbox({portStart: 34_780, portCount: 10});
    });
    afterAll(async () => {
      await sandbox.cleanup();
    });

    it('ssh-config: known-hosts, then the Host block, then ssh by its alias, into an empty ~/.ssh', async () => {
      const example = await readmeExample('ssh-config');
      expect((await sandbox.run(['session', 'create', 'bob', '--no-gpu'])).exitCode).toBe(0);
      // OpenSSH takes ~ from the password database, not $HOME: the example runs in a mount
      // namespace of its own where root's ~/.ssh is an empty tmpfs, so the machine's stays as it was.
      const made = (await stat('/root/.ssh').catch(() => undefined)) === undefined;
      await mkdir('/root/.ssh', {recursive: true, mode: 0o700});
      try {
        const script = ['mount -t tmpfs -o mode=700 sandman-readme /root/.ssh', ...example.commands].join(
          '\n',
        );
        const result = await run([`unshare -m bash -c ${shellWord(script)}`], {env: sandbox.env, cwd: work});
        expect(result.exitCode, result.stderr).toBe(0);
        expect(result.stdout.split('\n').filter(Boolean)).toEqual(example.output);
      } finally {
        if (made) await rm('/root/.ssh', {recursive: true, force: true});
      }
      expect((await sandbox.run(['session', 'rm', 'bob'])).exitCode).toBe(0);
    });

    it('ssh-config-gateway: the Host block through the gateway for a registered user', async () => {
      const example = await readmeExample('ssh-config-gateway');
      const key = path.join(work, 'gateway-example');
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
      expect((await sandbox.run(['user', 'add', 'alice', '--ssh-key', `${key}.pub`])).exitCode).toBe(0);
      const env = {...sandbox.env, SANDMAN_SSH_HOST: 'gpu01.example.org'};
      const result = await run(example.commands, {env, cwd: work});
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout.split('\n').filter(Boolean)).toEqual(example.output);
      expect((await sandbox.run(['user', 'rm', 'alice'])).exitCode).toBe(0);
    });

    it('session-terminal: a one-time link made from apiPublicUrl, and what it says of itself', async () => {
      const example = await readmeExample('session-terminal');
      expect((await sandbox.run(['session', 'create', 'alice', '--no-gpu'])).exitCode).toBe(0);
      const env = {...sandbox.env, SANDMAN_API_PUBLIC_URL: 'https://gpu1.example.org:8443'};
      const result = await run(example.commands, {env, cwd: work});
      expect(result.exitCode, result.stderr).toBe(0);
      // What differs each time (the link's secret, its end, the session's ID) is compared by shape.
      const shape = (line: string) =>
        line
          .replace(/\/t\/[A-Za-z0-9_-]{43}$/, '/t/<secret>')
          .replace(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/, '<time>')
          .replace(/session [0-9a-f]{12} only/, 'session <id> only');
      const lines = result.stdout.split('\n').filter(Boolean);
      expect(lines.map(shape)).toEqual(example.output.map(shape));
      expect(example.output.map(shape)).not.toEqual(example.output);
      expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
    });

    it('provisioning: a 0600 key that ssh accepts, and "already has a session" the second time', async () => {
      const [script] = (await readmeExample('provisioning')).commands;
      const cwd = await mkdtemp(path.join(work, 'provision-'));
      const env = {...sandbox.env, ...fakeGpuEnv(sandbox.dir, 'a100-mig-r580')};
      const first = await run([script!], {env, cwd});
      expect(first.exitCode, first.stderr).toBe(0);
      const sshCommand = first.stdout.trim();
      expect(sshCommand).toMatch(/^ssh -i \S+ -p \d+ alice@127\.0\.0\.1$/);
      const key = path.join(cwd, 'alice.key');
      expect(((await stat(key)).mode & 0o777).toString(8)).toBe('600');
      const port = /-p (\d+)/.exec(sshCommand)![1]!;
      const login = await sshRun(key, Number(port), 'alice', 'id -un');
      expect(login.stdout, String(login.stderr)).toBe('alice');
      const second = await run([script!], {env, cwd});
      expect(second.stdout.trim()).toBe('alice already has a session');
      expect((await sandbox.run(['session', 'rm', 'alice'], {env})).exitCode).toBe(0);
    });

    it('api-tcp: systemd-socket-activate on TCP, 401 without the token, a session with it, its container_ip', async () => {
      const example = await readmeExample('api-tcp');
      // systemd-socket-activate passes on only what -E names: the settings go into the config file.
      const config = Object.fromEntries(
        Object.keys(SETTINGS).flatMap((name) => {
          const value = sandbox.env[envName(name)];
          return value === undefined ? [] : [[name, value]];
        }),
      );
      await writeFile(sandbox.env.SANDMAN_CONFIG!, JSON.stringify(config));
      const port = '34791';
      const commands = [...example.commands.map((command) => command.replaceAll('8080', port)), 'kill %1'];
      const cwd = await mkdtemp(path.join(work, 'api-'));
      const result = await run(commands, {env: {SANDMAN_CONFIG: sandbox.env.SANDMAN_CONFIG!}, cwd});
      expect(result.exitCode, result.stderr).toBe(0);
      const [denied, user, address] = result.stdout.split('\n');
      expect([denied, user]).toEqual(example.output.slice(0, 2));
      const inspected = await execa('docker', [
        'inspect',
        '--format',
        `{{(index .NetworkSettings.Networks "${sandbox.network}").IPAddress}}`,
        `sandman-web1-${(await sandbox.json<{session_id: string}>(['session', 'show', 'web1'])).body.session_id}`,
      ]);
      expect(address).toBe(String(inspected.stdout).trim());
      expect((await sandbox.run(['session', 'rm', 'web1'])).exitCode).toBe(0);
    });
  });

  describe('a first session and a first login, with a sandbox of their own', () => {
    let sandbox: Sandbox;
    let gateway: GatewayUnderTest | undefined;
    const gatewayPort = 36_790;
    beforeAll(() => {
      sandbox = createSandbox({portStart: 36_750, portCount: 20});
    });
    afterAll(async () => {
      await gateway?.stop();
      await sandbox.cleanup();
    });

    it('first-session: what session create prints, and its ssh and known-hosts lines log her in', async () => {
      const [step, ...more] = await exampleSteps('first-session');
      expect(more).toEqual([]);
      const created = await run([step!.command.replace(/^sudo /, '')], {env: sandbox.env, cwd: work});
      expect(created.exitCode, created.stderr).toBe(0);
      const lines = created.stdout.split('\n').filter(Boolean);
      // The README's host, key directory and port are this sandbox's; the ID and the time change each run.
      const shape = (line: string) =>
        line
          .replaceAll(sandbox.keysDir, '/var/lib/sandman/keys')
          .replace('alice@127.0.0.1', 'alice@gpu01.example.org')
          .replace(/\b[0-9a-f]{12}\b/g, '<id>')
          .replace(/-p \d+ /, '-p <port> ')
          .replace(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/, '<time>');
      expect(lines.map(shape)).toEqual(step!.output.map(shape));
      expect(step!.output.map(shape)).not.toEqual(step!.output);
      const id = /Session ([0-9a-f]{12}) /.exec(lines[0]!)![1]!;
      expect(lines[1]).toContain(`${sandbox.keysDir}/${id} -p `);
      const port = Number(/-p (\d+) /.exec(lines[1]!)![1]);
      expect(port).toBeGreaterThanOrEqual(36_750);
      expect(port).toBeLessThan(36_770);

      // "Log in with the command it prints", after trusting the host as it says.
      const knownHosts = path.join(work, 'first-session-known_hosts');
      const trust = lines[3]!
        .replace(/^ *trust this host once: /, '')
        .replace('~/.ssh/known_hosts', knownHosts);
      expect((await run([trust], {env: sandbox.env, cwd: work})).exitCode).toBe(0);
      const [ssh, ...words] = lines[1]!.trim().split(' ');
      const login = await execa(ssh!, [...strictHostKeyOptions(knownHosts), ...words, 'id -un'], {
        reject: false,
        stdin: 'ignore',
        timeout: 60_000,
      });
      expect(String(login.stdout), String(login.stderr)).toBe('alice');

      expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
      expect((await stat(path.join(sandbox.workspaceRoot, 'alice'))).isDirectory()).toBe(true);
    });

    it('gateway-login: setup --gateway, user add with her key, known-hosts, then ssh starts her session', async () => {
      const [setup, add, trust, ssh, ...more] = await exampleSteps('gateway-login');
      expect(more).toEqual([]);
      const cwd = await mkdtemp(path.join(work, 'login-'));
      const units = path.join(cwd, 'units');
      const knownHosts = path.join(cwd, 'known_hosts');
      await execa('ssh-keygen', [
        '-q',
        '-t',
        'ed25519',
        '-N',
        '',
        '-C',
        'alice@laptop',
        '-f',
        path.join(cwd, 'alice'),
      ]);
      const env = {...sandbox.env, [envName('gatewayPort')]: String(gatewayPort)};

      // No systemd here: setup writes the units into a directory of the test's, and
      // systemd-socket-activate then serves the socket's port as systemd would.
      const setUp = await run(
        [`${setup!.command.replace(/^sudo /, '')}`.replace('--gateway', `--gateway --unit-dir ${units}`)],
        {env, cwd},
      );
      expect(setUp.exitCode, setUp.stderr).toBe(0);
      const unitsShape = (line: string) =>
        line
          .replace('in /etc/systemd/system, enabled with systemctl', 'in <units>')
          .replace(`in ${units}`, 'in <units>');
      expect(squeeze(setUp.stdout.split('\n')).map(unitsShape)).toEqual(
        squeeze(setup!.output).map(unitsShape),
      );
      expect(await readFile(path.join(units, 'sandman-gateway.socket'), 'utf8')).toContain(
        `\nListenStream=${gatewayPort}\n`,
      );
      gateway = await GatewayUnderTest.start(sandbox, gatewayPort);

      const added = await run([add!.command.replace(/^sudo /, '')], {env, cwd});
      expect(added.exitCode, added.stderr).toBe(0);
      const keyShape = (line: string) =>
        line.replace(/uid \d+/, 'uid <uid>').replace(/SHA256:[A-Za-z0-9+/]{43}/, 'SHA256:<fingerprint>');
      expect(squeeze(added.stdout.split('\n')).map(keyShape)).toEqual(squeeze(add!.output).map(keyShape));

      expect(trust!.output).toEqual([]);
      const trusted = await run([trust!.command.replace('~/.ssh/known_hosts', knownHosts)], {env, cwd});
      expect(trusted.exitCode, trusted.stderr).toBe(0);

      const shown = await gatewayLogin(ssh!.command, {
        port: gatewayPort,
        key: path.join(cwd, 'alice'),
        knownHosts,
        gateway,
      });
      expect(shown.map(loginShape)).toEqual(ssh!.output.map(loginShape));
      expect(ssh!.output.map(loginShape)).not.toEqual(ssh!.output);
      const session = await sandbox.json<Array<{ssh_user: string; status: string}>>(['session', 'ls']);
      expect(session.body.map(({ssh_user, status}) => [ssh_user, status])).toEqual([['alice', 'running']]);
    });

    it('gateway-login-mig: her first ssh through the gateway makes a 3g.20gb slice and starts her session on it', async () => {
      const [ssh, ...more] = await exampleSteps('gateway-login-mig');
      expect(more).toEqual([]);
      // A replayed A100 in dynamic MIG mode, alice's default profile 3g.20gb; a sandbox and a
      // gateway of their own, as the GPU settings are the gateway's too.
      const gpuSandbox = createSandbox({portStart: 36_770, portCount: 10});
      Object.assign(
        gpuSandbox.env,
        fakeGpuEnv(gpuSandbox.dir, 'a100-dynamic-r580', {SANDMAN_MIG_MODE: 'dynamic'}),
      );
      const port = 36_791;
      let migGateway: GatewayUnderTest | undefined;
      try {
        const key = path.join(gpuSandbox.dir, 'alice');
        await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
        const added = await gpuSandbox.run([
          'user',
          'add',
          'alice',
          '--ssh-key',
          `${key}.pub`,
          '--profile',
          '3g.20gb',
        ]);
        expect(added.exitCode, added.stderr).toBe(0);
        const knownHosts = path.join(gpuSandbox.dir, 'known_hosts');
        await writeFile(knownHosts, (await gpuSandbox.run(['known-hosts'])).stdout + '\n');
        migGateway = await GatewayUnderTest.start(gpuSandbox, port);
        const shown = await gatewayLogin(ssh!.command, {port, key, knownHosts, gateway: migGateway});
        expect(shown.map(loginShape)).toEqual(ssh!.output.map(loginShape));
      } finally {
        await migGateway?.stop();
        await gpuSandbox.cleanup();
      }
    });
  });
});

/** What changes each run in a login's lines: the session's ID, its port, its times, the GPU's UUID. */
const loginShape = (line: string) =>
  line
    .replace(/MIG-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, '<uuid>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .replace(/port \d+ /, 'port <port> ')
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/, '<time>')
    .replace(/\d\d:\d\d UTC \(\d{4}-\d\d-\d\d\)/, '<time>');

/**
 * An example's `ssh -p 2200 alice@gpu01.example.org`, at the test gateway's port on 127.0.0.1,
 * with her key and this known_hosts; -tt and "exit" on stdin stand in for her terminal. Returns
 * what the gateway says (stderr), then what her session prints up to its shell's prompt.
 */
async function gatewayLogin(
  command: string,
  options: {port: number; key: string; knownHosts: string; gateway: GatewayUnderTest},
): Promise<string[]> {
  const words = command.split(' ');
  expect(words.slice(0, 3)).toEqual(['ssh', '-p', '2200']);
  const login = await execa(
    'ssh',
    [
      '-tt',
      '-i',
      options.key,
      ...strictHostKeyOptions(options.knownHosts),
      '-p',
      String(options.port),
      words[3]!.replace('gpu01.example.org', '127.0.0.1'),
    ],
    {reject: false, input: 'exit\n', timeout: 150_000},
  );
  expect(login.exitCode, String(login.stderr) + options.gateway.log()).toBe(0);
  const said = String(login.stderr)
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line.startsWith('sandman: '));
  // The terminal echoes the "exit" typed ahead; the prompt's title and bracketed-paste codes are
  // not text a reader sees.
  const screen = String(login.stdout)
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\][^\x07]*\x07|\x1b\[\?2004[hl]/g, '')
    .split('\n')
    .map((line) => line.replace(/\r/g, '').trimEnd())
    .filter((line) => line !== '' && line !== 'exit');
  const prompt = screen.findIndex((line) => line.startsWith('alice@sandman-alice:~$'));
  expect(prompt, screen.join('\n')).toBeGreaterThan(0);
  return [...said, ...screen.slice(0, prompt), 'alice@sandman-alice:~$'];
}

function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
