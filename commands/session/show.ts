import {Args} from '@oclif/core';

import {gpuDescription} from '../../src/session/banner.js';
import type {SessionView} from '../../src/session/session-view.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {formatTime, relativeTime} from '../../cli/output.js';
import {sessionQueries} from '../../cli/services.js';

export default class SessionShow extends SandmanCommand {
  static override summary = 'Show one session in full';
  static override examples = [
    '<%= config.bin %> session show alice',
    '<%= config.bin %> session show 7f3a --json',
  ];

  static override args = {
    session: Args.string({description: 'session ID, unique ID prefix, or user name', required: true}),
  };

  async run(): Promise<SessionView> {
    const {args, flags} = await this.parse(SessionShow);
    const session = await (await sessionQueries(this.loadSettings(flags))).show(args.session);
    const rows: Array<[string, string | number]> = [
      ['ID', session.session_id],
      ['User', `${session.ssh_user} (uid ${session.uid})`],
      ['Status', session.status],
      ['Connect', session.ssh_command],
      ['GPU', gpuDescription(session)],
      ['Workspace', session.workspace],
      ['Image', session.image],
      [
        'Container',
        `${session.container_name}${session.container_id ? ` (${session.container_id.slice(0, 12)})` : ''}`,
      ],
      ['Created', `${formatTime(session.created_at)} (${relativeTime(session.created_at)})`],
      ['Expires', `${formatTime(session.expires_at)} (${relativeTime(session.expires_at)})`],
    ];
    for (const [label, value] of rows) this.log(`${(label + ':').padEnd(11)} ${value}`);
    return session;
  }
}
