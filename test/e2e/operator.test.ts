import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN} from '../helpers/constants.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {readState, sessionOf} from '../helpers/state-file.js';
import {Terminal} from '../helpers/tmux.js';

/** The escape character that starts an ANSI colour sequence. */
const ESC = String.fromCharCode(27);

let sandbox: Sandbox;
const terminals: Terminal[] = [];
beforeAll(() => {
  sandbox = createSandbox({portStart: 32_500});
});
afterAll(async () => {
  await Promise.all(terminals.map((terminal) => terminal.close()));
  await sandbox.cleanup();
});

async function terminal(args: string, env: Record<string, string> = {}): Promise<Terminal> {
  const started = await Terminal.start(`node ${BIN} ${args}`, {...sandbox.env, ...env});
  terminals.push(started);
  return started;
}

describe('on a real terminal (tmux)', () => {
  it('session create without USER asks for the user, the GPU and the TTL', async () => {
    const term = await terminal('session create', fakeGpuEnv(sandbox.dir, 'a100-mig-r580'));
    await term.waitFor(/User name/);
    await term.type('Bad Name');
    await term.keys('Enter');
    await term.waitFor(/invalid user name "Bad Name"/);
    await term.keys('C-u');
    await term.type('tina');
    await term.keys('Enter');
    const menu = await term.waitFor(/GPU[\s\S]*no GPU/);
    expect(menu).toContain('MIG 4g.20gb (1 free)');
    expect(menu).toContain('MIG 1g.5gb (1 free)');
    // Menu order: 4g.20gb, 1c.2g.10gb, 1g.5gb, no GPU.
    await term.keys('Down', 'Down', 'Enter');
    await term.waitFor(/Time to live/);
    await term.type('45m');
    await term.keys('Enter');
    const done = await term.waitFor(/EXIT=\d+/);
    expect(done).toMatch(/✔ Session [0-9a-f]{12} for tina is ready/);
    expect(done).toContain('EXIT=0');
    const session = sessionOf(await readState(sandbox.stateFile), 'tina')!;
    expect(session.mig_profile).toBe('1g.5gb');
    expect(Date.parse(session.expires_at) - Date.parse(session.created_at)).toBe(45 * 60_000);
  });

  it('without a terminal, session create without USER is a usage error', async () => {
    const result = await sandbox.run(['session', 'create']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('missing USER');
  });

  it('session rm --all asks for confirmation: no keeps everything, yes removes', async () => {
    const no = await terminal('session rm --all');
    await no.waitFor(/Remove all 1 session\(s\)\? Workspaces are kept/);
    await no.type('n');
    await no.keys('Enter');
    expect(await no.waitFor(/EXIT=\d+/)).toContain('EXIT=2');
    expect((await readState(sandbox.stateFile)).sessions).toHaveLength(1);

    const yes = await terminal('session rm --all');
    await yes.waitFor(/Remove all 1 session\(s\)\?/);
    await yes.type('y');
    await yes.keys('Enter');
    const screen = await yes.waitFor(/EXIT=\d+/);
    expect(screen).toMatch(/Removed [0-9a-f]{12} \(tina\)/);
    expect(screen).toContain('EXIT=0');
    expect((await readState(sandbox.stateFile)).sessions).toEqual([]);
  });

  it('uses colour on a terminal, and none with NO_COLOR', async () => {
    const coloured = await terminal('session create colour --no-gpu --no-wait', {NO_COLOR: ''});
    await coloured.waitFor(/EXIT=0/);
    expect(await coloured.screen(true)).toContain(`${ESC}[32m✔`);
    const plain = await terminal('session rm colour', {NO_COLOR: '1'});
    await plain.waitFor(/EXIT=0/);
    const create = await terminal('session create colour2 --no-gpu --no-wait', {NO_COLOR: '1'});
    await create.waitFor(/EXIT=0/);
    expect(await create.screen(true)).not.toContain(`${ESC}[3`);
    expect((await sandbox.run(['session', 'rm', 'colour2'])).exitCode).toBe(0);
  });
});

describe('ssh shortcut and logs', () => {
  it('sandman ssh alice -- id -un runs the command in her session', async () => {
    expect((await sandbox.run(['session', 'create', 'alice', '--no-gpu'])).exitCode).toBe(0);
    const result = await sandbox.run(['ssh', 'alice', '--', 'id', '-un']);
    expect(result).toMatchObject({exitCode: 0, stdout: 'alice'});
    const failing = await sandbox.run(['ssh', 'alice', '--', 'exit', '3']);
    expect(failing.exitCode).toBe(3);
    // --json belongs before "--": everything after it is the remote command.
    const json = await sandbox.run(['ssh', 'alice', '--json', '--', 'echo', 'hi']);
    expect(JSON.parse(json.stdout)).toMatchObject({exit_code: 0, stdout: 'hi\n'});
    expect((await sandbox.run(['ssh', 'nobody-here'])).exitCode).toBe(3);
  });

  it('an interactive sandman ssh gives a shell on a terminal', async () => {
    const term = await terminal('ssh alice');
    await term.waitFor(/alice@sandman-alice/);
    await term.type('echo "in $HOME as $(id -un)"');
    await term.keys('Enter');
    await term.waitFor(/in \/home\/alice as alice/);
    await term.type('exit');
    await term.keys('Enter');
    expect(await term.waitFor(/EXIT=\d+/)).toContain('EXIT=0');
  });

  it('session logs shows the entrypoint and sshd output', async () => {
    const logs = await sandbox.run(['session', 'logs', 'alice']);
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toMatch(/sandman-entrypoint: session for alice \(uid \d+\) ready, starting sshd/);
    const tail = await sandbox.json<{logs: string}>(['session', 'logs', 'alice', '--tail', '1']);
    expect(tail.body.logs.trim().split('\n')).toHaveLength(1);
    const follow = await sandbox.json<{error: {code: string}}>(['session', 'logs', 'alice', '-f']);
    expect(follow.exitCode).toBe(2);
    expect((await sandbox.run(['session', 'rm', 'alice'])).exitCode).toBe(0);
  });
});

describe('--json', () => {
  it('every command prints exactly one JSON document on stdout, success or failure', async () => {
    const gpu = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
    const commands: string[][] = [
      ['session', 'ls'],
      ['session', 'show', 'ghost'],
      ['session', 'rm', 'ghost'],
      ['session', 'extend', 'ghost', '--ttl', '1h'],
      ['session', 'create', 'Bad'],
      ['session', 'create', 'jsonuser', '--no-gpu', '--no-wait'],
      ['session', 'logs', 'jsonuser'],
      ['ssh', 'jsonuser'],
      ['gpu', 'ls'],
      ['gpu', 'profiles'],
      ['gpu', 'available'],
      ['reap', '--dry-run'],
      ['doctor'],
      ['systemd', 'print'],
      ['session', 'rm', '--all', '--yes'],
      ['session', 'create', '--bogus-flag'],
    ];
    for (const args of commands) {
      const result = await sandbox.run([...args, '--json'], {env: gpu});
      expect(() => JSON.parse(result.stdout), `${args.join(' ')}: ${result.stdout}`).not.toThrow();
      if (result.exitCode === 0) continue;
      // A failure is the error document, except where the command's own shape carries it
      // (docs/admin/scripting.md): rm's first error, doctor's failed checks.
      const body = JSON.parse(result.stdout) as {
        error?: {exit_code: number};
        errors?: Array<{exit_code: number}>;
        ok?: boolean;
      };
      if (args[0] === 'doctor') expect(body.ok).toBe(false);
      else if (args[1] === 'rm' && body.errors) expect(body.errors[0]!.exit_code).toBe(result.exitCode);
      else expect(body.error!.exit_code).toBe(result.exitCode);
    }
  });
});

describe('shell completion and help', () => {
  it('completes commands and flags in bash', async () => {
    const {execa} = await import('execa');
    await execa('node', [BIN, 'autocomplete', 'bash'], {env: sandbox.env});
    const setup = (await execa('node', [BIN, 'autocomplete', 'script', 'bash'], {env: sandbox.env})).stdout;
    const script =
      `${setup}\nsource "$SANDMAN_AC_BASH_SETUP_PATH"\n` +
      'COMP_WORDS=(sandman session cr); COMP_CWORD=2; COMP_LINE="sandman session cr"; _sandman_autocomplete; echo "${COMPREPLY[@]}"\n' +
      'COMP_WORDS=(sandman session create --pro); COMP_CWORD=3; COMP_LINE="sandman session create --pro"; _sandman_autocomplete; echo "${COMPREPLY[@]}"\n';
    const result = await execa('bash', ['-c', script], {env: sandbox.env});
    const [commands, flags] = result.stdout.trim().split('\n').slice(-2);
    expect(commands).toContain('create');
    expect(flags).toContain('--profile');
  });

  it('every command has a summary, flag descriptions and an example in --help', async () => {
    const {execa} = await import('execa');
    const ids = [
      'session create',
      'session ls',
      'session show',
      'session rm',
      'session extend',
      'session logs',
      'ssh',
      'gpu ls',
      'gpu profiles',
      'gpu available',
      'reap',
      'doctor',
      'image build',
      'systemd print',
      'systemd install',
    ];
    for (const id of ids) {
      const help = (await execa('node', [BIN, ...id.split(' '), '--help'], {env: sandbox.env})).stdout;
      expect(help, id).toMatch(/^USAGE$/m);
      expect(help, id).toMatch(/^EXAMPLES$/m);
      expect(help, id).toMatch(/--json\s+Format output as json\./);
    }
  });
});
