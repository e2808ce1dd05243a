import type {Check} from '../src/doctor.js';
import {SandmanError} from '../src/errors.js';
import type {Handler} from '../cli/command-spec.js';
import {loadChalk, renderTable} from '../cli/output.js';

const doctor: Handler = async ({flags}, context): Promise<{checks: Check[]}> => {
  const {out} = context;
  const checks = await context
    .services()
    .doctor({unitDir: flags['unit-dir'] as string, cronFile: flags['cron-file'] as string});
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
    throw new SandmanError(
      'FAILURE',
      `${failed.length} check(s) failed: ${failed.map((check) => check.name).join(', ')}`,
      {details: {checks}},
    );
  }
  return {checks};
};
export default doctor;
