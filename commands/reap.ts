import {Flags} from '@oclif/core';

import type {ReapReport} from '../src/reap/reaper.js';
import {SandmanCommand} from '../cli/base-command.js';
import {reapAndReport} from '../cli/reap-and-report.js';

export default class Reap extends SandmanCommand {
  static override summary = 'Remove expired sessions and repair drift between the state file and Docker';
  static override description =
    'Removes expired sessions, containers of this instance without a record, records whose container is gone, ' +
    'creates that died half-way, and idle sessions when idleTimeout is set; warns terminals before expiry. ' +
    'Workspaces are kept. Safe to run concurrently and every minute (see "sandman systemd print").';
  static override examples = [
    '<%= config.bin %> reap',
    '<%= config.bin %> reap --dry-run',
    '<%= config.bin %> reap --json',
  ];

  static override flags = {
    'dry-run': Flags.boolean({description: 'show what would be done, change nothing'}),
  };

  async run(): Promise<ReapReport> {
    const {flags} = await this.parse(Reap);
    return reapAndReport(this.loadSettings(flags), {dryRun: flags['dry-run']}, this.output);
  }
}
