import {Flags} from '@oclif/core';

import {SandmanError} from '../src/errors.js';
import type {ReapReport} from '../src/reap/reaper.js';
import {SandmanCommand} from '../cli/base-command.js';
import {loadChalk, renderTable} from '../cli/output.js';
import {reaper} from '../cli/services.js';
import {startSpinner} from '../cli/spinner.js';

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
    const spinner = await startSpinner(this.jsonEnabled(), 'Reaping');
    let report: ReapReport;
    try {
      report = await (await reaper(this.loadSettings(flags), spinner.text)).run({dryRun: flags['dry-run']});
    } finally {
      spinner.stop();
    }
    if (!this.jsonEnabled()) await this.print(report);
    if (report.failed > 0) {
      // Exit 1; with --json the report travels in the error object, so stdout stays one document.
      throw new SandmanError('FAILURE', `${report.failed} reap item(s) failed`, {details: {report}});
    }
    return report;
  }

  private async print(report: ReapReport): Promise<void> {
    if (report.skipped) return this.log(`Nothing done: ${report.skipped}.`);
    if (report.items.length === 0) return this.log(`Nothing to reap (${report.duration_ms} ms).`);
    const rows = report.items.map((item) => [
      item.result === 'would' ? 'would ' + item.action : item.action,
      item.reason,
      item.session_id ?? '-',
      item.user ?? '-',
      item.result + (item.error ? `: ${item.error}` : ''),
    ]);
    this.log(
      await renderTable(
        ['ACTION', 'REASON', 'SESSION', 'USER', 'RESULT'],
        rows,
        await loadChalk(this.colour),
      ),
    );
    const done = report.items.filter((item) => item.result === 'done').length;
    this.log(
      `${report.dry_run ? 'Dry run: nothing changed' : `${done} done, ${report.failed} failed`} (${report.duration_ms} ms).`,
    );
  }
}
