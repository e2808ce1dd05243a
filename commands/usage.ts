import {invalidInput} from '../src/core/errors.js';
import type {BudgetUse} from '../src/audit/metrics.js';
import type {UsageReport, UsageRow} from '../src/usage/usage-report.js';
import {budgetUses} from '../src/users/budget-use.js';
import type {Handler} from '../cli/command-spec.js';
import {formatTime, loadChalk, renderTable} from '../cli/output.js';

const BAR_WIDTH = 24;

const usage: Handler = async (
  {flags},
  context,
): Promise<(UsageReport & {budgets: BudgetUse[]}) | undefined> => {
  const {out} = context;
  if (flags.csv && out.json) throw invalidInput('--csv cannot be combined with --json');
  const service = await context.services().usage();
  const report = await service.report({
    since: flags.since as string,
    until: flags.until as string | undefined,
    by: flags.by as string,
  });
  // By user, with GPU-hour budgets set: each user's use of theirs, over the budget's own window.
  const budgets =
    report.by === 'user'
      ? await budgetUses(context.settings(), await (await context.services().store()).read(), (users) =>
          service.gpuHoursOfUsers(users),
        )
      : [];
  const budgetOf = (key: string) => {
    const entry = budgets.find((budget) => budget.user === key);
    return entry ? `${formatHours(entry.used)}/${entry.budget} h` : '-';
  };
  if (flags.csv) {
    const header = `${report.by},sessions,session_hours,gpu_hours,unknown_gpu,stopped_hours`;
    const line = (row: UsageRow) =>
      [
        csvCell(row.key),
        row.sessions,
        row.session_hours,
        row.gpu_hours,
        row.unknown_gpu,
        row.stopped_hours,
      ].join(',');
    out.log([header, ...report.rows.map(line)].join('\n'));
    return undefined;
  }
  if (out.json) return {...report, budgets};
  const chalk = await loadChalk(out.colour);
  // The bar follows GPU-hours, or session-hours when no GPU was used at all.
  const measure =
    report.total.gpu_hours > 0 ? (row: UsageRow) => row.gpu_hours : (row: UsageRow) => row.session_hours;
  const top = Math.max(...report.rows.map(measure), 0);
  const bar = (row: UsageRow) => '█'.repeat(top > 0 ? Math.round((measure(row) / top) * BAR_WIDTH) : 0);
  const hours = formatHours;
  // Session-hours split into running and stopped once any session was stopped (docs/admin/sessions.md "Stop and start").
  const stopped = report.total.stopped_hours > 0;
  out.log(`${formatTime(report.since)} to ${formatTime(report.until)}, by ${report.by}`);
  out.log(
    await renderTable(
      [
        report.by.toUpperCase(),
        'SESSIONS',
        'SESSION-H',
        ...(stopped ? ['STOPPED-H'] : []),
        'GPU-H',
        ...(budgets.length > 0 ? ['BUDGET (WINDOW)'] : []),
        '',
      ],
      [
        ...report.rows.map((row) => [
          row.key + (row.unknown_gpu > 0 ? ` (${row.unknown_gpu} GPU share unknown)` : ''),
          row.sessions,
          hours(row.session_hours),
          ...(stopped ? [hours(row.stopped_hours)] : []),
          hours(row.gpu_hours),
          ...(budgets.length > 0 ? [budgetOf(row.key)] : []),
          bar(row),
        ]),
        [
          'TOTAL',
          report.total.sessions,
          hours(report.total.session_hours),
          ...(stopped ? [hours(report.total.stopped_hours)] : []),
          hours(report.total.gpu_hours),
          ...(budgets.length > 0 ? [''] : []),
          '',
        ],
      ],
      chalk,
    ),
  );
  return {...report, budgets};
};
export default usage;

/** Quotes a CSV cell when it needs it (RFC 4180). */
function csvCell(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Hours as people compare them: one decimal from 10 h up, two below, and "<0.01" for a trace, so
 * that short sessions never read 0.0 beside a TOTAL that is not.
 */
export function formatHours(value: number): string {
  if (value === 0) return '0';
  if (value < 0.005) return '<0.01';
  return value >= 10 ? value.toFixed(1) : value.toFixed(2);
}
