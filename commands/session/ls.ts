import {Flags} from '@oclif/core';

import {gpuDescription} from '../../src/session/banner.js';
import type {SessionView} from '../../src/session/session-view.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {loadChalk, relativeTime, renderTable} from '../../cli/output.js';
import {sessionQueries} from '../../cli/services.js';

export default class SessionLs extends SandmanCommand {
  static override summary = 'List sessions';
  static override hiddenAliases = ['session:list'];
  static override examples = [
    '<%= config.bin %> session ls',
    '<%= config.bin %> session ls --user alice --json',
    '<%= config.bin %> session ls -q | xargs -r <%= config.bin %> session rm',
  ];

  static override flags = {
    quiet: Flags.boolean({char: 'q', description: 'print session IDs only'}),
    user: Flags.string({description: "only this user's sessions"}),
    expired: Flags.boolean({description: 'only sessions past their expiry (what the next reap removes)'}),
  };

  async run(): Promise<SessionView[]> {
    const {flags} = await this.parse(SessionLs);
    const config = this.loadSettings(flags);
    const sessions = await (await sessionQueries(config)).list({user: flags.user, expired: flags.expired});
    if (this.jsonEnabled()) return sessions;
    if (flags.quiet) {
      for (const session of sessions) this.log(session.session_id);
      return sessions;
    }
    const chalk = await loadChalk(this.colour);
    const rows = sessions.map((session) => [
      session.session_id,
      session.ssh_user,
      session.status,
      gpuDescription(session),
      session.ssh_port,
      relativeTime(session.created_at),
      relativeTime(session.expires_at),
    ]);
    this.log(await renderTable(['ID', 'USER', 'STATUS', 'GPU', 'PORT', 'CREATED', 'EXPIRES'], rows, chalk));
    return sessions;
  }
}
