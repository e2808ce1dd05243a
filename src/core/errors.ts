/**
 * The one error type of sandman. Each kind maps to an exit code of docs/admin/scripting.md, and the CLI
 * turns any SandmanError into output in a single place (cli/base-command.ts).
 */
export const ERROR_KINDS = {
  FAILURE: 1,
  INVALID_INPUT: 2,
  NOT_FOUND: 3,
  CONFLICT: 4,
  CAPACITY: 5,
  DEPENDENCY_UNAVAILABLE: 6,
  STATE_UNAVAILABLE: 7,
  /** A user's or group's limit (profile not allowed, too many sessions, GPU-hour budget spent, TTL). */
  POLICY: 8,
} as const;

export type ErrorKind = keyof typeof ERROR_KINDS;

/** What each kind means, for people (docs/reference/exit-codes.md is made from this and ERROR_KINDS). */
export const ERROR_KIND_MEANINGS: Record<ErrorKind, string> = {
  FAILURE: 'anything else (the message says what)',
  INVALID_INPUT: 'usage, validation, configuration',
  NOT_FOUND: 'session, user, job, GPU or MIG device',
  CONFLICT: 'user already has a session, device already held',
  CAPACITY: 'no free port, GPU slice or session slot',
  DEPENDENCY_UNAVAILABLE: 'Docker unreachable, image missing, nvidia-smi missing when a GPU was asked for',
  STATE_UNAVAILABLE: 'state file unreadable, corrupt, or its lock not taken in time',
  POLICY: "a user's or group's limit: profile, sessions at once, TTL, GPU-hour budget, keep, jobs at once",
};

export class SandmanError extends Error {
  readonly kind: ErrorKind;
  readonly exitCode: number;
  /** Extra machine-readable detail (e.g. what is free when capacity runs out). */
  readonly details?: Record<string, unknown>;

  constructor(
    kind: ErrorKind,
    message: string,
    options?: {cause?: unknown; details?: Record<string, unknown>},
  ) {
    super(message, options?.cause === undefined ? undefined : {cause: options.cause});
    this.name = 'SandmanError';
    this.kind = kind;
    this.exitCode = ERROR_KINDS[kind];
    this.details = options?.details;
  }
}

export const invalidInput = (message: string, details?: Record<string, unknown>) =>
  new SandmanError('INVALID_INPUT', message, {details});
export const notFound = (message: string) => new SandmanError('NOT_FOUND', message);
export const conflict = (message: string, details?: Record<string, unknown>) =>
  new SandmanError('CONFLICT', message, {details});
export const capacity = (message: string, details?: Record<string, unknown>) =>
  new SandmanError('CAPACITY', message, {details});
export const dependencyUnavailable = (message: string, cause?: unknown) =>
  new SandmanError('DEPENDENCY_UNAVAILABLE', message, {cause});
export const policy = (message: string, details?: Record<string, unknown>) =>
  new SandmanError('POLICY', message, {details});
export const stateUnavailable = (message: string, cause?: unknown) =>
  new SandmanError('STATE_UNAVAILABLE', message, {cause});

export function isSandmanError(error: unknown): error is SandmanError {
  return error instanceof SandmanError;
}

/** Errors from Node's fs and net layers carry a string `code`; this reads it without `any`. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as {code: unknown}).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** Docker's HTTP API answers with a status code; dockerode puts it on the error. */
export function httpStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const code = (error as {statusCode: unknown}).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}
