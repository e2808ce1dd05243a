import {invalidInput} from '../../src/core/errors.js';
import type {SessionView} from '../../src/session/session-view.js';
import type {CommandContext, Handler} from '../../cli/command-spec.js';
import {errorEntry, reportPartialFailure} from '../../cli/error-output.js';
import {interactive} from '../../cli/terminal.js';

/**
 * `session rm`: one JSON shape whatever the outcome (docs/admin/scripting.md): what was removed and
 * what was not, each failure with its reference; the exit code is the first failure's.
 */
const rm: Handler = async (
  {argv: references, flags},
  context,
): Promise<{removed: SessionView[]; errors: Array<Record<string, unknown>>; cancelled: string[]}> => {
  if (flags.all && references.length > 0) throw invalidInput('give session IDs or --all, not both');
  if (!flags.all && references.length === 0) throw invalidInput('missing session ID or user (or --all)');
  const services = context.services();
  if (flags.all && !flags.yes)
    await confirmAll((await (await services.sessionQueries()).list()).length, context);
  const service = await services.sessionService();

  const {removed, errors, cancelled} = flags.all
    ? await service.removeAll()
    : await service.remove(references);
  for (const session of removed)
    context.out.log(
      `Removed ${session.session_id} (${session.ssh_user}); workspace ${session.workspace} kept`,
    );
  for (const id of cancelled) context.out.log(`Cancelled queued request ${id}`);
  if (errors.length > 0)
    context.setExitCode(
      await reportPartialFailure(
        errors.map((entry) => entry.error),
        context.out,
      ),
    );
  return {
    removed,
    errors: errors.map(({reference, error}) => ({reference, ...errorEntry(error)})),
    cancelled,
  };
};
export default rm;

async function confirmAll(count: number, context: CommandContext): Promise<void> {
  if (count === 0) return;
  if (context.out.json || !interactive()) {
    throw invalidInput('refusing to remove every session without confirmation: add --yes');
  }
  const {confirm} = await import('@inquirer/prompts');
  const ok = await confirm({message: `Remove all ${count} session(s)? Workspaces are kept.`, default: false});
  if (!ok) throw invalidInput('aborted: nothing was removed');
}
