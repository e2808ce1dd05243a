import {Args, Flags} from '@oclif/core';

import type {SessionView} from '../../src/session/session-view.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {formatTime, relativeTime} from '../../cli/output.js';
import {sessionService} from '../../cli/services.js';

export default class SessionExtend extends SandmanCommand {
  static override summary = 'Push a session’s expiry further out';
  static override description =
    'Adds --ttl to the current expiry, up to maxTtl (default 7d) after the session was created.';
  static override examples = [
    '<%= config.bin %> session extend alice --ttl 30m',
    '<%= config.bin %> session extend 7f3a --ttl 1d --json',
  ];

  static override args = {
    session: Args.string({description: 'session ID, unique ID prefix, or user name', required: true}),
  };

  static override flags = {
    ttl: Flags.string({description: 'how much longer: 30m, 2h, 1d, or minutes as a number', required: true}),
  };

  async run(): Promise<SessionView> {
    const {args, flags} = await this.parse(SessionExtend);
    const session = await (await sessionService(this.loadSettings(flags))).extend(args.session, flags.ttl);
    this.log(
      `Session ${session.session_id} for ${session.ssh_user} now expires ${formatTime(session.expires_at)} ` +
        `(${relativeTime(session.expires_at)})`,
    );
    return session;
  }
}
