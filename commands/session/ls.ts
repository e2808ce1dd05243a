import {Flags} from '@oclif/core';

import type {SessionView} from '../../src/session/session-view.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {listSessions} from '../../cli/session-list.js';

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
    return listSessions(this.loadSettings(flags), flags, this.output);
  }
}
