import {isSandmanError, SandmanError, type ErrorKind} from '../src/errors.js';
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

/** README "Scripting": `{"error": {"code", "message", "exit_code"}}`. */
export function errorJson(error: SandmanError): {error: Record<string, unknown>} {
  return {
    error: {
      code: error.kind,
      message: error.message,
      exit_code: error.exitCode,
      ...(error.details ? {details: error.details} : {}),
    },
  };
}

/**
 * The one place a failure becomes output: the JSON error object on stdout with --json, otherwise
 * `Error: ...` on stderr (with a pointer to --help for usage errors). Returns the exit code.
 */
export async function reportError(
  error: unknown,
  context: {json: boolean; colour: boolean; command?: string},
): Promise<number> {
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
