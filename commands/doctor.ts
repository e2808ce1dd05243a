import type {Check} from '../src/setup/doctor.js';
import {SandmanError} from '../src/core/errors.js';
import type {Handler} from '../cli/command-spec.js';
import {reportPartialFailure} from '../cli/error-output.js';
import {loadChalk, renderTable} from '../cli/output.js';

/** `doctor`: `{ok, checks}` whatever the outcome (docs/admin/scripting.md); exit 1 when a check fails. */
const doctor: Handler = async ({flags}, context): Promise<{ok: boolean; checks: Check[]}> => {
  const {out} = context;
  const checks = await context.services().doctor({
    unitDir: flags['unit-dir'] as string | undefined,
    cronFile: flags['cron-file'] as string | undefined,
  });
  if (!out.json) {
    const chalk = await loadChalk(out.colour);
    const colours = {ok: chalk?.green, warn: chalk?.yellow, fail: chalk?.red};
    const mark = (status: Check['status']) => colours[status]?.(status) ?? status;
    out.log(
      await renderTable(
        ['CHECK', 'STATUS', 'DETAIL'],
        checks.map((check) => [check.name, mark(check.status), check.detail]),
        chalk,
      ),
    );
    for (const check of checks.filter((item) => item.hint)) out.log(`\n${check.name}: ${check.hint}`);
  }
  const failed = checks.filter((check) => check.status === 'fail');
  if (failed.length > 0) {
    const summary = `${failed.length} check(s) failed: ${failed.map((check) => check.name).join(', ')}`;
    context.setExitCode(await reportPartialFailure([new SandmanError('FAILURE', summary)], context.out));
  }
  return {ok: failed.length === 0, checks};
};
export default doctor;
