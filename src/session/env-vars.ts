import {invalidInput} from '../core/errors.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names the container's own set-up relies on; an operator's --env must not override them. */
const PROTECTED = /^(SANDMAN_|NVIDIA_VISIBLE_DEVICES$|HOME$|USER$|LOGNAME$|SHELL$)/;

/** Parses repeated `--env KEY=VALUE` flags into Docker's `KEY=VALUE` list, refusing what would break it. */
export function parseEnvAssignments(assignments: readonly string[]): Map<string, string> {
  const result = new Map<string, string>();
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    const name = equals > 0 ? assignment.slice(0, equals) : '';
    const value = assignment.slice(equals + 1);
    if (!NAME.test(name)) {
      throw invalidInput(
        `invalid --env ${JSON.stringify(assignment)}: expected KEY=VALUE with KEY matching [A-Za-z_][A-Za-z0-9_]*`,
      );
    }
    if (PROTECTED.test(name)) {
      throw invalidInput(`invalid --env ${JSON.stringify(assignment)}: ${name} is set by sandman itself`);
    }
    if (/[\0\r\n]/.test(value)) {
      throw invalidInput(`invalid --env ${JSON.stringify(assignment)}: the value must be a single line`);
    }
    result.set(name, value);
  }
  return result;
}
