/** docs/reference/exit-codes.md, made from the error kinds (src/core/errors.ts) and the JSON error shape. */
import {ERROR_KIND_MEANINGS, ERROR_KINDS, SandmanError, type ErrorKind} from '../../src/core/errors.js';
import {errorJson} from '../error-output.js';
import {code, page, table} from './markdown.js';

export function exitCodesPage(): string {
  const kinds = Object.keys(ERROR_KINDS) as ErrorKind[];
  const example = errorJson(
    new SandmanError('NOT_FOUND', 'no session with ID or user "nobody" (see "sandman session ls")'),
  );
  return page('Exit codes', 'src/core/errors.ts (ERROR_KINDS, ERROR_KIND_MEANINGS)', [
    'Every sandman command exits with one of these codes. A failure is one error: `Error: MESSAGE` on stderr, or with `--json` one JSON document on stdout with its `code` (the name below), `message`, `exit_code` and, for some, `details`.',
    table(
      ['exit', 'code', 'meaning'],
      [
        ['0', '', 'success'],
        ...kinds.map((kind) => [String(ERROR_KINDS[kind]), code(kind), ERROR_KIND_MEANINGS[kind]]),
      ],
    ),
    'The `--json` error document (here for exit 3):',
    JSON.stringify(example, null, 2)
      .split('\n')
      .map((line) => '    ' + line)
      .join('\n'),
    'The HTTP API answers errors with `{"error": MESSAGE, "code": CODE}` and an HTTP status (see [api.md](api.md)).',
  ]);
}
