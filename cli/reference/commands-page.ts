/**
 * docs/reference/commands.md, made from the command table (cli/registry.ts) and each command's spec:
 * what `--help` shows, for every command on one page. The in-session command's help is
 * src/self/self-commands.ts's.
 */
import {SELF_HELP} from '../../src/self/self-commands.js';
import type {CommandSpec, FlagSpec} from '../command-spec.js';
import {COMMAND_TABLE, GLOBAL_FLAGS} from '../registry.js';
import {code, page, table} from './markdown.js';

const words = (spec: CommandSpec) => `sandman ${spec.id.replaceAll(':', ' ')}`;
const bin = (text: string) => text.replaceAll('<%= config.bin %>', 'sandman');

function usage(spec: CommandSpec): string {
  const args = (spec.args ?? []).map((arg) =>
    arg.required ? arg.name.toUpperCase() : `[${arg.name.toUpperCase()}]`,
  );
  if (spec.variadic) args.push('…');
  return [
    words(spec),
    ...args,
    ...(spec.flags && Object.keys(spec.flags).length > 0 ? ['[flags]'] : []),
  ].join(' ');
}

function flagName(name: string, flag: FlagSpec): string {
  const names = [`--${name}`, ...(flag.aliases ?? []).map((alias) => `--${alias}`)];
  if (flag.char) names.unshift(`-${flag.char}`);
  const value = flag.kind === 'boolean' ? '' : flag.kind === 'integer' ? ' N' : ' VALUE';
  return names.map((item) => code(item + value)).join(', ');
}

function flagRows(flags: Record<string, FlagSpec>) {
  return Object.entries(flags).map(([name, flag]) => [
    flagName(name, flag),
    [
      flag.description,
      flag.required ? '(required)' : '',
      flag.default === undefined ? '' : `(default ${flag.default})`,
      flag.multiple ? '(may be given more than once)' : '',
      flag.min === undefined ? '' : `(at least ${flag.min})`,
    ]
      .filter(Boolean)
      .join(' '),
  ]);
}

function section(spec: CommandSpec): string {
  const parts = [`## ${words(spec)}`, spec.summary + '.', '    ' + usage(spec)];
  if (spec.description) parts.push(bin(spec.description));
  if (spec.args?.length)
    parts.push(
      table(
        ['argument', 'what it is'],
        spec.args.map((arg) => [
          code(arg.name.toUpperCase()),
          arg.description + (arg.required ? '' : ' (optional)'),
        ]),
      ),
    );
  if (spec.flags && Object.keys(spec.flags).length > 0)
    parts.push(table(['flag', 'what it does'], flagRows(spec.flags)));
  if (spec.exclusive?.length)
    parts.push(`At most one of ${spec.exclusive.map((name) => code(`--${name}`)).join(', ')}.`);
  if (spec.examples?.length)
    parts.push(
      'Examples:',
      spec.examples.map((example) => '    ' + bin(example).replaceAll('\n', '\n    ')).join('\n'),
    );
  return parts.join('\n\n');
}

export function commandsPage(): string {
  const index = COMMAND_TABLE.map((spec) => {
    const anchor = words(spec).replaceAll(' ', '-');
    return `- [${words(spec)}](#${anchor}): ${spec.summary}`;
  }).join('\n');
  return page('Command reference', 'cli/registry.ts and the command specs (commands/**/*.spec.ts)', [
    'Every command of `sandman` on the host, as its `--help` shows it. Each takes these flags too:',
    table(
      ['flag', 'what it does'],
      [
        [
          code('--json'),
          'print one JSON document: the result, or the error (see [exit codes](exit-codes.md))',
        ],
        ...flagRows(GLOBAL_FLAGS),
      ],
    ),
    index,
    ...COMMAND_TABLE.map(section),
    '## Inside a session',
    'The `sandman` command in a session (for its user; see [docs/user/inside-your-session.md](../user/inside-your-session.md)) is another program with its own words:',
    SELF_HELP.trimEnd()
      .split('\n')
      .map((line) => (line === '' ? '' : '    ' + line))
      .join('\n'),
  ]);
}
