/**
 * What the fast path (cli/fast-path.ts) runs once it has parsed a command: the same command
 * bodies and error output as the oclif commands. `session ls`'s body is imported here directly;
 * reap's and create's, which need Docker, load on use.
 */
import {reportError} from './error-output.js';
import type {FastFlags, FastInvocation} from './fast-path.js';
import {writeJson, type CommandOutput} from './output.js';
import {listSessions} from './session-list.js';
import {creationSettingNames, settingsFromFlags} from './settings.js';
import {colourWanted} from './terminal.js';

type Runner = (flags: FastFlags, out: CommandOutput, args: string[]) => Promise<unknown>;

// Each loads the configuration from the flags first, as the oclif command does.
const RUNNERS: Record<string, Runner> = {
  'session:ls': async (flags, out) =>
    listSessions(
      settingsFromFlags(flags),
      {quiet: flags.quiet === true, expired: flags.expired === true, user: flags.user as string | undefined},
      out,
    ),
  reap: async (flags, out) => {
    const config = settingsFromFlags(flags);
    const {reapAndReport} = await import('./reap-and-report.js');
    return reapAndReport(config, {dryRun: flags['dry-run'] === true}, out);
  },
  'session:create': async (flags, out, args) => {
    const config = settingsFromFlags(flags, creationSettingNames);
    const [{createSession, gpuChoiceOf}, {validateUserName}] = await Promise.all([
      import('./session-create.js'),
      import('../src/user-name.js'),
    ]);
    const user = validateUserName(args[0]!);
    const given = flags as Parameters<typeof gpuChoiceOf>[0];
    return createSession(config, {user, gpu: gpuChoiceOf(given), ttl: given.ttl, flags: given}, out);
  },
};

export async function runFastInvocation(
  {command, flags, args}: FastInvocation,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  // As oclif's jsonEnabled(): --json, or the <BIN>_CONTENT_TYPE=json environment variable.
  const json = flags.json === true || env.SANDMAN_CONTENT_TYPE?.toLowerCase() === 'json';
  const colour = colourWanted(json);
  const out: CommandOutput = {json, colour, log: (line) => process.stdout.write(line + '\n')};
  // As oclif does: a reader that goes away (`| head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  try {
    const result = await RUNNERS[command.id]!(flags, out, args);
    if (json) writeJson(result);
  } catch (error) {
    process.exitCode = await reportError(error, {json, colour, command: command.id});
  }
}
