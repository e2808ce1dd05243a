import {spawn} from 'node:child_process';

import {Args} from '@oclif/core';

import {invalidInput} from '../src/errors.js';
import {sshClientArgs} from '../src/session/ssh-client.js';
import {SandmanCommand} from '../cli/base-command.js';
import {sessionQueries} from '../cli/services.js';

export default class Ssh extends SandmanCommand {
  static override summary = "Open an SSH shell in a user's session (or run one command there)";
  static override description =
    'Runs the OpenSSH client with the session key, port and host. Everything after -- is the remote command.';
  static override strict = false;
  static override examples = [
    '<%= config.bin %> ssh alice',
    '<%= config.bin %> ssh alice -- nvidia-smi -L',
    '<%= config.bin %> ssh alice --json -- id -un',
  ];

  static override args = {
    session: Args.string({description: 'user name, session ID or unique ID prefix', required: true}),
  };

  async run(): Promise<{exit_code: number; stdout: string; stderr: string} | undefined> {
    const {args, argv, flags} = await this.parse(Ssh);
    const config = this.loadSettings(flags);
    const session = await (await sessionQueries(config)).find(args.session);
    if (session.status !== 'running')
      throw invalidInput(`session ${session.id} is ${session.status}, not running`);
    const command = (argv as string[]).slice(1);
    const sshArgs = sshClientArgs(session, config, {tty: !this.jsonEnabled() && command.length === 0});
    const json = this.jsonEnabled();
    const child = spawn('ssh', [...sshArgs, ...command], {
      stdio: json ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', (error) =>
        reject(invalidInput(`cannot run the OpenSSH client (ssh): ${error.message}`)),
      );
      child.on('close', (exit, signal) => resolve(exit ?? (signal ? 128 : 1)));
    });
    if (json) {
      this.logJson({exit_code: code, stdout, stderr});
      if (code !== 0) this.exit(code);
      return undefined;
    }
    // Like ssh itself: the remote command's exit status is ours.
    if (code !== 0) this.exit(code);
    return undefined;
  }
}
