import {dependencyUnavailable, SandmanError} from '../../core/errors.js';
import {runProgram} from '../../core/adapters/run-program.js';

/** How a quota mechanism runs its tools: `quotaCommand`, or a recorder in unit tests. */
export type QuotaCommand = (file: string, args: string[], what: string) => Promise<string>;

/** Runs a tool a quota mechanism needs; a missing tool is exit 6 naming it, a failure says its stderr. */
export async function quotaCommand(file: string, args: string[], what: string): Promise<string> {
  let result;
  try {
    result = await runProgram(file, args, {timeoutMs: 120_000});
  } catch (error) {
    throw dependencyUnavailable(`${what}: ${file} is not installed (${(error as Error).message})`);
  }
  if (result.exitCode !== 0)
    throw new SandmanError(
      'FAILURE',
      `${what}: ${file} ${args.join(' ')} failed: ${result.stderr.trim() || result.stdout.trim()}`,
    );
  return result.stdout;
}
