import {setTimeout as sleep} from 'node:timers/promises';

import {execa} from 'execa';

const UNSET = ['CI', 'CONTINUOUS_INTEGRATION', 'BUILD_NUMBER', 'RUN_ID', 'FORCE_COLOR'];

/** A real terminal: tmux runs the command, tests type with send-keys and read with capture-pane. */
export class Terminal {
  private constructor(readonly name: string) {}

  static async start(command: string, env: Record<string, string>): Promise<Terminal> {
    const name = `sandman-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const exports = Object.entries(env)
      .map(([key, value]) => `${key}='${value.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    // The pane stands for a person at a shell: CI's markers (which make chalk and ora drop colour
    // and spinners) and forced colour settings from the test runner's environment are removed.
    // The pane stays open after the command ends so its last screen and exit status can be read.
    await execa('tmux', [
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      '160',
      '-y',
      '50',
      `env ${UNSET.map((name) => `-u ${name}`).join(' ')} ${exports} ${command}; echo "EXIT=$?"; sleep 600`,
    ]);
    return new Terminal(name);
  }

  async keys(...keys: string[]): Promise<void> {
    await execa('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  async type(text: string): Promise<void> {
    await execa('tmux', ['send-keys', '-t', this.name, '-l', text]);
  }

  async screen(escapes = false): Promise<string> {
    return (
      await execa('tmux', ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.name, '-S', '-50'])
    ).stdout;
  }

  /** Waits until the screen matches, failing with the screen's text after `timeoutMs`. */
  async waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (pattern.test(screen)) return screen;
      await sleep(100);
    }
    throw new Error(`terminal never showed ${pattern}; screen:\n${screen}`);
  }

  async close(): Promise<void> {
    await execa('tmux', ['kill-session', '-t', this.name], {reject: false});
  }
}
