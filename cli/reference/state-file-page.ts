/** docs/reference/state-file.md, made from the state file's field tables (src/state/state-fields.ts). */
import {STATE_TABLES} from '../../src/state/state-fields.js';
import {STATE_VERSION} from '../../src/state/state-data.js';
import {code, page, table} from './markdown.js';

export function stateFilePage(): string {
  return page(
    'The state file',
    'src/state/state-fields.ts (the field tables, typed by src/state/state-data.ts)',
    [
      `Everything sandman knows is one JSON file (setting \`stateFile\`, default /var/lib/sandman/state.json), read and written under a lock by every command. This page is format version ${STATE_VERSION}; an older file is upgraded when it is read. Field names are snake_case, as the API's. Times are ISO 8601 in UTC. Read it with \`jq\`; change it only with sandman's commands.`,
      ...STATE_TABLES.flatMap(({name, where, fields}) => [
        `## ${name}`,
        `${where[0]!.toUpperCase()}${where.slice(1)}.`,
        table(
          ['field', 'what it holds'],
          Object.entries(fields).map(([field, text]) => [code(field), text]),
        ),
      ]),
    ],
  );
}
