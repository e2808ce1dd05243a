import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN} from '../helpers/constants.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

/**
 * A terminal that says it is 0 columns wide (`stty cols 0`; `script` with piped input, as some CI
 * runners and cron wrappers run commands): spinners and prompts must finish, and a signal in any
 * phase must end the command within seconds, undoing what it started. `script` (util-linux) gives
 * the command a real pseudo-terminal, so ora and inquirer run as they do for a person.
 */
let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 34_600, portCount: 20});
});
afterAll(async () => {
  await sandbox.cleanup();
});

// CSI sequences (colours, cursor moves) as ora and inquirer write them.
const ANSI_ESCAPE = new RegExp(String.raw`\u001b\[[0-9;?]*[A-Za-z]`, 'g');

interface Run {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  exit: Promise<number | null>;
}

/** `sandman ARGS` in a pseudo-terminal of 0 columns; what it prints, ANSI escapes removed. */
function inNarrowTerminal(args: string[], env: Record<string, string> = {}): Run {
  const command = `stty cols 0 rows 0; exec node ${BIN} ${args.join(' ')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    env: {...process.env, ...sandbox.env, ...env, CI: '', TERM: 'xterm'},
  });
  let text = '';
  const plain = (raw: string) => raw.replace(ANSI_ESCAPE, '');
  child.stdout.on('data', (chunk: Buffer) => (text += plain(chunk.toString())));
  child.stderr.on('data', (chunk: Buffer) => (text += plain(chunk.toString())));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (wanted: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!text.includes(wanted)) {
      if (Date.now() > deadline) throw new Error(`never printed ${JSON.stringify(wanted)}; output:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {child, output: () => text, waitFor, exit};
}

/** The sandman process itself: script's child (the shell exec'd into node). */
async function sandmanPid(run: Run): Promise<number> {
  const found = await execa('pgrep', ['-P', String(run.child.pid)]);
  return Number(String(found.stdout).split('\n')[0]);
}

async function expectNothingLeft(): Promise<void> {
  expect(await sandbox.containers()).toEqual([]);
  expect((await readState(sandbox.stateFile)).sessions).toEqual([]);
  expect(await sandbox.keyFiles()).toEqual([]);
}

describe('a terminal of 0 columns', () => {
  it('create with its spinner finishes and prints the connection details', async () => {
    const run = inNarrowTerminal(['session', 'create', 'narrow', '--no-gpu']);
    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toMatch(/Session [0-9a-f]{12} for narrow is ready/);
    // ora drew its spinner (the terminal is a TTY), but never a runaway of cursor-up lines.
    expect(run.output().length).toBeLessThan(4000);
    expect((await sandbox.run(['session', 'rm', 'narrow'])).exitCode).toBe(0);
  });

  it('create without USER asks on the terminal, and the answers create the session', async () => {
    const run = inNarrowTerminal(['session', 'create']);
    await run.waitFor('User name');
    run.child.stdin.write('asked\r');
    await run.waitFor('Time to live');
    run.child.stdin.write('\r');
    expect(await run.exit, run.output()).toBe(0);
    expect(run.output()).toMatch(/Session [0-9a-f]{12} for asked is ready/);
    expect((await sandbox.run(['session', 'rm', 'asked'])).exitCode).toBe(0);
  });

  it('SIGTERM at a prompt ends the command at once; Ctrl-C there ends it as interrupted (130)', async () => {
    const termed = inNarrowTerminal(['session', 'create']);
    await termed.waitFor('User name');
    process.kill(await sandmanPid(termed), 'SIGTERM');
    expect(await termed.exit).toBe(143);

    const interrupted = inNarrowTerminal(['session', 'create']);
    await interrupted.waitFor('User name');
    interrupted.child.stdin.write('\x03');
    expect(await interrupted.exit).toBe(130);
    expect(interrupted.output()).toContain('sandman: interrupted');
    expect(interrupted.output()).not.toContain('Error:');
    await expectNothingLeft();
  });

  it.each(['reserved', 'container-created', 'container-started', 'before-commit'])(
    'SIGTERM while the spinner runs (%s) undoes the create within seconds: no container, record, port or key',
    async (phase) => {
      const run = inNarrowTerminal(['session', 'create', 'halted', '--no-gpu'], {SANDMAN_FAULT_POINT: phase});
      await run.waitFor(`sandman-fault-point: ${phase}`);
      const started = Date.now();
      process.kill(await sandmanPid(run), 'SIGTERM');
      expect(await run.exit, run.output()).toBe(143);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(run.output()).toContain('SIGTERM received, undoing');
      await expectNothingLeft();
      // The port is free again: the next create gets the first one of the range.
      const next = await sandbox.json<{ssh_port: number}>([
        'session',
        'create',
        'halted',
        '--no-gpu',
        '--no-wait',
      ]);
      expect(next.body.ssh_port).toBe(34_600);
      expect((await sandbox.run(['session', 'rm', 'halted'])).exitCode).toBe(0);
    },
  );
});
