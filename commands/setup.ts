import path from 'node:path';

import {configFilePath} from '../src/config.js';
import {SandmanError} from '../src/errors.js';
import type {Check} from '../src/doctor.js';
import type {SetupStep} from '../src/setup.js';
import {sandmanEnvironment, selfCommand} from '../src/systemd-units.js';
import type {Handler} from '../cli/command-spec.js';
import {renderSteps} from '../cli/output.js';
import {startSpinner} from '../cli/spinner.js';

const setup: Handler = async (
  {flags},
  context,
): Promise<{steps: SetupStep[]; checks: Check[]; changed: boolean}> => {
  const {out} = context;
  const spinner = await startSpinner(out.json, 'Setting up');
  let result;
  try {
    result = await context.services().setup({
      dryRun: flags['dry-run'] === true,
      force: flags.force === true,
      base: flags.base as string | undefined,
      unitDir: flags['unit-dir'] as string | undefined,
      cronFile: flags['cron-file'] as string,
      configFile: configFilePath(),
      given: context.givenSettings(),
      command: selfCommand(context.root),
      environment: sandmanEnvironment(),
      imageContext: path.join(context.root, 'images', 'workspace'),
    });
  } finally {
    spinner.stop();
  }
  const changed = result.steps.some((step) => step.status === 'done' || step.status === 'would');
  const left = result.checks.filter((check) => check.status !== 'ok');
  if (!out.json) {
    out.log(await renderSteps(result.steps, out.colour));
    if (flags['dry-run']) out.log('Dry run: nothing changed.');
    else if (!changed) out.log('Nothing to do: this host is set up.');
    for (const check of left)
      out.log(
        `Left to do (${check.status}): ${check.name}: ${check.detail}${check.hint ? `; ${check.hint}` : ''}`,
      );
    if (!flags['dry-run'] && left.length === 0) out.log('doctor: every check passes.');
  }
  const failed = left.filter((check) => check.status === 'fail');
  if (failed.length > 0) {
    throw new SandmanError(
      'FAILURE',
      `set up, but doctor fails: ${failed.map((check) => check.name).join(', ')}`,
      {
        details: {...result, changed},
      },
    );
  }
  return {...result, changed};
};
export default setup;
