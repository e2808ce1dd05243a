/**
 * The fast door: answers any command of the table without loading oclif, when its arguments are
 * plain (loading and routing through @oclif/core is most of a command's start-up, docs/development/BENCHMARKS.md).
 * Anything it does not parse completely (--help, an unknown or repeated flag, a value that looks
 * like a flag, a missing argument, two exclusive flags, ...) goes to the oclif door, which answers
 * the usual way. SANDMAN_FAST_PATH=0 sends everything through oclif.
 */
import {parseArgs, type ParseArgsConfig} from 'node:util';

import type {CommandSpec, FlagSpec, Flags, Invocation} from './command-spec.js';
import {COMMAND_TABLE, GLOBAL_FLAGS} from './registry.js';
// Loaded with the door: every command it takes runs through it, so a second loading hop would
// only cost start-up.
import {runCommand} from './run-command.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The command the first words name (its ID's words or a hidden alias's), and the rest of argv. */
function commandFor(argv: string[]): {spec: CommandSpec; rest: string[]} | undefined {
  for (const spec of COMMAND_TABLE) {
    for (const id of [spec.id, ...(spec.hiddenAliases ?? [])]) {
      const words = id.split(':');
      if (words.every((word, index) => argv[index] === word)) return {spec, rest: argv.slice(words.length)};
    }
  }
  return undefined;
}

const looksLikeFlag = (value: string) => value.length > 1 && value.startsWith('-');

/** The command and its invocation, or undefined when this argv is one for oclif to answer. */
export function parseFastInvocation(argv: string[]): {spec: CommandSpec; invocation: Invocation} | undefined {
  const found = commandFor(argv);
  if (!found || !found.spec.fast) return undefined;
  const {spec, rest} = found;
  const declared: Record<string, FlagSpec> = {
    json: {kind: 'boolean', description: 'JSON output'},
    ...GLOBAL_FLAGS,
    ...spec.flags,
  };
  const options: Options = {};
  const canonical = new Map<string, string>();
  for (const [name, flag] of Object.entries(declared)) {
    for (const spelling of [name, ...(flag.aliases ?? [])]) {
      options[spelling] = {
        type: flag.kind === 'boolean' ? 'boolean' : 'string',
        ...(flag.multiple ? {multiple: true} : {}),
        ...(spelling === name && flag.char ? {short: flag.char} : {}),
      };
      canonical.set(spelling, name);
    }
  }
  let parsed;
  try {
    parsed = parseArgs({args: rest, options, strict: true, allowPositionals: true, tokens: true});
  } catch {
    return undefined;
  }
  const flags: Flags = {};
  for (const token of parsed.tokens ?? []) {
    if (token.kind === 'option-terminator' && !spec.variadic) return undefined;
    if (token.kind !== 'option') continue;
    const name = canonical.get(token.name)!;
    const flag = declared[name]!;
    if (token.value !== undefined && (token.value === '' || looksLikeFlag(token.value))) return undefined;
    if (flag.multiple) {
      flags[name] = [...((flags[name] as string[] | undefined) ?? []), token.value!];
    } else if (Object.hasOwn(flags, name)) {
      return undefined;
    } else if (flag.kind === 'integer') {
      if (!/^\d+$/.test(token.value!) || Number(token.value) < (flag.min ?? 0)) return undefined;
      flags[name] = Number(token.value);
    } else {
      flags[name] = flag.kind === 'boolean' ? true : token.value;
    }
  }
  for (const [name, flag] of Object.entries(declared)) {
    if (flags[name] === undefined && flag.required) return undefined;
    if (flags[name] === undefined && flag.default !== undefined) flags[name] = flag.default;
  }
  if ((spec.exclusive ?? []).filter((name) => flags[name] !== undefined && flags[name] !== false).length > 1)
    return undefined;
  const argSpecs = spec.args ?? [];
  const positionals = parsed.positionals;
  if (positionals.length < argSpecs.filter((arg) => arg.required).length) return undefined;
  if (!spec.variadic && positionals.length > argSpecs.length) return undefined;
  const args = Object.fromEntries(argSpecs.map((arg, index) => [arg.name, positionals[index]]));
  return {spec, invocation: {args, argv: positionals, flags}};
}

/** Runs argv through the fast door; false when it is one for oclif. */
export async function runFast(
  argv: string[],
  root: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  if (env.SANDMAN_FAST_PATH === '0') return false;
  if (argv.length === 1 && argv[0] === '--version') {
    process.stdout.write(await versionText(root, env));
    return true;
  }
  const found = parseFastInvocation(argv);
  if (!found) return false;
  await runCommand(found.spec, found.invocation, {root, env});
  return true;
}

/**
 * `sandman --version`: oclif's line (name/version platform-arch node-version), then the state
 * file's version and the ones this sandman reads (docs/admin/upgrades-and-backups.md "Upgrading").
 */
async function versionText(root: string, env: NodeJS.ProcessEnv): Promise<string> {
  const [{readFile}, path, {loadConfig}, {readConfigText}, {STATE_VERSION}, {OLDEST_STATE_VERSION}] =
    await Promise.all([
      import('node:fs/promises'),
      import('node:path'),
      import('../src/config/config.js'),
      import('../src/config/adapters/fs-config-file.js'),
      import('../src/state/state-data.js'),
      import('../src/state/migrations.js'),
    ]);
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  const agent = `${pkg.name}/${pkg.version} ${process.platform}-${process.arch} node-${process.version}`;
  const reads = `this sandman reads state file versions ${OLDEST_STATE_VERSION} to ${STATE_VERSION}`;
  let file: string;
  try {
    file = loadConfig({env, readFile: readConfigText, configFileOptional: true}).stateFile;
  } catch {
    return `${agent}\n${reads}\n`;
  }
  const text = await readFile(file, 'utf8').catch(() => undefined);
  let version: string;
  try {
    version =
      text === undefined
        ? 'none yet'
        : `version ${String((JSON.parse(text) as {version?: unknown}).version)}`;
  } catch {
    version = 'unreadable';
  }
  return `${agent}\nstate file ${file}: ${version}; ${reads}\n`;
}
