import {isSandmanError, SandmanError, type ErrorKind} from '../src/core/errors.js';
import {writeJson} from './output.js';

/** oclif's own errors (unknown flag, missing argument, ...) carry their exit code in `oclif.exit`. */
function oclifExit(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'oclif' in error) {
    const exit = (error as {oclif?: {exit?: unknown}}).oclif?.exit;
    return typeof exit === 'number' ? exit : undefined;
  }
  return undefined;
}

/** Any thrown value, as the one error type the output layer knows. */
export function toSandmanError(error: unknown): SandmanError {
  if (isSandmanError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const exit = oclifExit(error);
  if (exit === 2)
    return new SandmanError('INVALID_INPUT', message.split('\nSee more help with')[0] ?? message);
  const kind: ErrorKind = 'FAILURE';
  return new SandmanError(kind, message, {cause: error});
}

/** One failure as scripts read it: `{"code", "message", "exit_code"}` (and details when there are any). */
export function errorEntry(error: SandmanError): Record<string, unknown> {
  return {
    code: error.kind,
    message: error.message,
    exit_code: error.exitCode,
    ...(error.details ? {details: error.details} : {}),
  };
}

/** docs/admin/scripting.md: `{"error": {"code", "message", "exit_code"}}`. */
export function errorJson(error: SandmanError): {error: Record<string, unknown>} {
  return {error: errorEntry(error)};
}

/**
 * A command that did part of its work (rm of several sessions): each failure is an `Error:` line
 * on stderr for people (the JSON document carries them for scripts), and the exit code is the
 * first failure's.
 */
export async function reportPartialFailure(
  errors: SandmanError[],
  context: {json: boolean; colour: boolean},
): Promise<number> {
  if (!context.json) {
    const chalk = context.colour ? (await import('chalk')).default : undefined;
    const label = chalk ? chalk.red.bold('Error:') : 'Error:';
    for (const error of errors) process.stderr.write(`${label} ${error.message}\n`);
  }
  return errors[0]?.exitCode ?? 0;
}

/**
 * The one place a failure becomes output: the JSON error object on stdout with --json, otherwise
 * `Error: ...` on stderr (with a pointer to --help for usage errors). Returns the exit code.
 */
export async function reportError(
  error: unknown,
  context: {json: boolean; colour: boolean; command?: string},
): Promise<number> {
  // Ctrl-C at a prompt (inquirer reads the key in raw mode and rejects): the command was
  // interrupted before it did anything, so it ends as a shell reports SIGINT, not as a failure.
  if (error instanceof Error && error.name === 'ExitPromptError') {
    process.stderr.write('\nsandman: interrupted\n');
    return 130;
  }
  const failure = toSandmanError(error);
  if (context.json) {
    writeJson(errorJson(failure));
  } else {
    const chalk = context.colour ? (await import('chalk')).default : undefined;
    const label = chalk ? chalk.red.bold('Error:') : 'Error:';
    process.stderr.write(`${label} ${failure.message}\n`);
    if (failure.kind === 'INVALID_INPUT' && /flag|argument/i.test(failure.message)) {
      process.stderr.write(`See "sandman ${context.command?.replace(/:/g, ' ') ?? ''} --help".\n`);
    }
  }
  return failure.exitCode;
}
