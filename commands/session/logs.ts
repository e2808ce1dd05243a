import {Args, Flags} from '@oclif/core';

import {DockerodeContainerClient} from '../../src/docker/dockerode-container-client.js';
import {invalidInput} from '../../src/errors.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {sessionQueries} from '../../cli/services.js';

export default class SessionLogs extends SandmanCommand {
  static override summary = "Show a session container's logs (sshd and the entrypoint)";
  static override examples = [
    '<%= config.bin %> session logs alice',
    '<%= config.bin %> session logs alice -f',
    '<%= config.bin %> session logs 7f3a --tail 20 --json',
  ];

  static override args = {
    session: Args.string({description: 'session ID, unique ID prefix, or user name', required: true}),
  };

  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'keep streaming new lines until interrupted'}),
    tail: Flags.integer({description: 'only the last N lines', min: 0}),
  };

  async run(): Promise<{session_id: string; logs: string} | undefined> {
    const {args, flags} = await this.parse(SessionLogs);
    if (flags.follow && this.jsonEnabled()) throw invalidInput('--follow cannot be combined with --json');
    const session = await (await sessionQueries(this.loadSettings(flags))).find(args.session);
    const stream = await new DockerodeContainerClient().logs(session.container_id ?? session.container_name, {
      follow: flags.follow,
      tail: flags.tail,
    });
    if (!this.jsonEnabled()) {
      stream.pipe(process.stdout);
      await new Promise((resolve) => stream.on('end', resolve));
      return undefined;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    return {session_id: session.id, logs: Buffer.concat(chunks).toString('utf8')};
  }
}
