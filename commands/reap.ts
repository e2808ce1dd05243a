import {SandmanError} from '../src/core/errors.js';
import type {ReapReport} from '../src/reap/reaper.js';
import type {Handler} from '../cli/command-spec.js';
import {loadChalk, renderTable, type CommandOutput} from '../cli/output.js';
import {startSpinner} from '../cli/spinner.js';

const reap: Handler = async ({flags}, context): Promise<ReapReport> => {
  const {out} = context;
  const spinner = await startSpinner(out.json, 'Reaping');
  let report: ReapReport;
  try {
    report = await (await context.services().reaper(spinner.text)).run({dryRun: flags['dry-run'] === true});
  } finally {
    spinner.stop();
  }
  if (!out.json) await printReport(report, out);
  const notices = report.notices;
  if (!out.json && notices)
    out.log(
      `Notices: ${notices.recorded} new, ${notices.delivered} delivered` +
        (notices.failed ? `, ${notices.failed} failed (retried at the next reap)` : '') +
        '.',
    );
  if (report.failed > 0) {
    // Exit 1; with --json the report travels in the error object, so stdout stays one document.
    throw new SandmanError('FAILURE', `${report.failed} reap item(s) failed`, {details: {report}});
  }
  return report;
};
export default reap;

async function printReport(report: ReapReport, out: CommandOutput): Promise<void> {
  if (report.skipped) return out.log(`Nothing done: ${report.skipped}.`);
  if (report.items.length === 0) return out.log(`Nothing to reap (${report.duration_ms} ms).`);
  const rows = report.items.map((item) => [
    item.result === 'would' ? 'would ' + item.action : item.action,
    item.reason,
    item.session_id ?? '-',
    item.user ?? '-',
    [item.result, item.detail, item.error].filter(Boolean).join(': '),
  ]);
  out.log(
    await renderTable(['ACTION', 'REASON', 'SESSION', 'USER', 'RESULT'], rows, await loadChalk(out.colour)),
  );
  const done = report.items.filter((item) => item.result === 'done').length;
  out.log(
    `${report.dry_run ? 'Dry run: nothing changed' : `${done} done, ${report.failed} failed`} (${report.duration_ms} ms).`,
  );
}
