import path from 'node:path';

import {configFilePath} from '../src/config/config.js';
import type {Check} from '../src/setup/doctor.js';
import {invalidInput, SandmanError} from '../src/core/errors.js';
import type {SetupStep} from '../src/setup/setup-host.js';
import type {ReaperLocation} from '../src/setup/setup-record.js';
import {sandmanEnvironment, selfCommand} from '../src/setup/systemd-units.js';
import type {CommandContext, Handler} from '../cli/command-spec.js';
import {reportPartialFailure} from '../cli/error-output.js';
import {renderSteps} from '../cli/output.js';
import {startSpinner} from '../cli/spinner.js';
import {interactive} from '../cli/terminal.js';

interface SetupResult {
  ok: boolean;
  changed: boolean;
  steps: SetupStep[];
  checks: Check[];
  reaper?: ReaperLocation;
}

/**
 * `setup` (docs/admin/install.md), or `setup --remove` (docs/admin/install.md "Removing sandman from a host"). One
 * JSON shape either way: `{ok, changed, steps, checks}`; exit 1 when doctor still fails after it.
 */
const setup: Handler = async ({flags}, context): Promise<SetupResult> => {
  const {out} = context;
  const given = {
    unitDir: flags['unit-dir'] as string | undefined,
    cronFile: flags['cron-file'] as string | undefined,
  };
  const dryRun = flags['dry-run'] === true;
  if (flags.purge && !flags.remove) throw invalidInput('--purge goes with --remove');
  if (flags.remove) {
    if (flags.base !== undefined || Object.keys(context.givenSettings()).length > 0)
      throw invalidInput('--remove takes no --base or setting flags: it undoes what setup made');
    if (flags.purge && !flags.yes && !dryRun) await confirmPurge(context);
    const spinner = await startSpinner(out.json, 'Removing the setup');
    let steps: SetupStep[];
    try {
      steps = await context
        .services()
        .removeSetup({dryRun, purge: flags.purge === true, force: flags.force === true, ...given});
    } finally {
      spinner.stop();
    }
    const changed = steps.some((step) => step.status === 'done' || step.status === 'would');
    if (!out.json) {
      out.log(await renderSteps(steps, out.colour));
      out.log(dryRun ? 'Dry run: nothing changed.' : changed ? 'Removed.' : 'Nothing to remove.');
    }
    return {ok: true, changed, steps, checks: []};
  }

  const spinner = await startSpinner(out.json, 'Setting up');
  let result;
  try {
    result = await context.services().setup({
      dryRun,
      force: flags.force === true,
      base: flags.base as string | undefined,
      ...given,
      configFile: configFilePath(),
      given: context.givenSettings(),
      command: selfCommand(context.root),
      environment: sandmanEnvironment(),
      imageContext: path.join(context.root, 'images', 'workspace'),
      gateway: flags.gateway === true,
      selfServe: flags['self-serve'] === true,
    });
  } finally {
    spinner.stop();
  }
  const changed = result.steps.some((step) => step.status === 'done' || step.status === 'would');
  const left = result.checks.filter((check) => check.status !== 'ok');
  const failed = left.filter((check) => check.status === 'fail');
  if (!out.json) {
    out.log(await renderSteps(result.steps, out.colour));
    if (dryRun) out.log('Dry run: nothing changed.');
    else if (!changed) out.log('Nothing to do: this host is set up.');
    for (const check of left)
      out.log(
        `Left to do (${check.status}): ${check.name}: ${check.detail}${check.hint ? `; ${check.hint}` : ''}`,
      );
    if (!dryRun && left.length === 0) out.log('doctor: every check passes.');
  }
  if (failed.length > 0) {
    const summary = `set up, but doctor fails: ${failed.map((check) => check.name).join(', ')}`;
    context.setExitCode(await reportPartialFailure([new SandmanError('FAILURE', summary)], out));
  }
  return {ok: failed.length === 0, changed, ...result};
};
export default setup;

async function confirmPurge(context: CommandContext): Promise<void> {
  if (context.out.json || !interactive())
    throw invalidInput(
      'refusing to --purge homes, the state file and the CA without confirmation: add --yes',
    );
  const {confirm} = await import('@inquirer/prompts');
  const {workspaceRoot, stateFile} = context.settings();
  const ok = await confirm({
    message: `Remove every home under ${workspaceRoot}, the state file ${stateFile}, keys and the CA?`,
    default: false,
  });
  if (!ok) throw invalidInput('aborted: nothing was removed');
}
