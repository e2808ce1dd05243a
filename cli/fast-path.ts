/**
 * `reap` (run every minute by the timer) and `session ls` (run inside scripts) without oclif.
 * Loading @oclif/core and routing through it is most of their wall time (BENCHMARKS.md), so
 * bin/run.js tries this first. It runs the same command bodies and error output as the oclif
 * commands, but only for plain invocations it parses completely; anything else (--help, unknown or
 * repeated flags, a value that looks like a flag, `--`) goes to oclif, which then answers the usual
 * way. SANDMAN_FAST_PATH=0 sends everything through oclif.
 */
import type {Config} from '../src/config.js';
import {reportError} from './error-output.js';
import {writeJson, type CommandOutput} from './output.js';
import {listSessions} from './session-list.js';
import {settingsFromFlags} from './settings.js';
import {colourWanted} from './terminal.js';

export type FastFlags = Record<string, string | boolean>;

export interface FastCommand {
  /** oclif's command ID, for the --help pointer in usage errors. */
  id: string;
  /** Command-line token → flag name. */
  booleans: Record<string, string>;
  values: Record<string, string>;
  run: (config: Config, flags: FastFlags, out: CommandOutput) => Promise<unknown>;
}

// The flags every sandman command has (cli/base-command.ts): --json and --state (alias --db).
const GLOBAL_BOOLEANS = {'--json': 'json'};
const GLOBAL_VALUES = {'--state': 'state', '--db': 'state'};

const sessionLs: FastCommand = {
  id: 'session:ls',
  booleans: {...GLOBAL_BOOLEANS, '-q': 'quiet', '--quiet': 'quiet', '--expired': 'expired'},
  values: {...GLOBAL_VALUES, '--user': 'user'},
  run: async (config, flags, out) =>
    listSessions(
      config,
      {quiet: flags.quiet === true, expired: flags.expired === true, user: flags.user as string | undefined},
      out,
    ),
};

const reap: FastCommand = {
  id: 'reap',
  booleans: {...GLOBAL_BOOLEANS, '--dry-run': 'dry-run'},
  values: GLOBAL_VALUES,
  run: async (config, flags, out) => {
    const {reapAndReport} = await import('./reap-and-report.js');
    return reapAndReport(config, {dryRun: flags['dry-run'] === true}, out);
  },
};

/** By oclif command ID; test/unit/fast-path.test.ts holds these tables to the oclif flags. */
export const FAST_COMMANDS: Record<string, FastCommand> = {[sessionLs.id]: sessionLs, [reap.id]: reap};

/** The command words each fast command answers to (oclif's hidden alias `session list` included). */
function commandFor(argv: string[]): {command: FastCommand; rest: string[]} | undefined {
  if (argv[0] === 'reap') return {command: reap, rest: argv.slice(1)};
  if (argv[0] === 'session' && (argv[1] === 'ls' || argv[1] === 'list')) {
    return {command: sessionLs, rest: argv.slice(2)};
  }
  return undefined;
}

/** The command and its flags, or undefined when this argv is one for oclif to handle. */
export function parseFastInvocation(argv: string[]): {command: FastCommand; flags: FastFlags} | undefined {
  const found = commandFor(argv);
  if (!found) return undefined;
  const {command, rest} = found;
  const flags: FastFlags = {};
  for (let index = 0; index < rest.length; index++) {
    const token = rest[index]!;
    const equals = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = equals === -1 ? token : token.slice(0, equals);
    const booleanFlag = Object.hasOwn(command.booleans, name) ? command.booleans[name] : undefined;
    const valueFlag = Object.hasOwn(command.values, name) ? command.values[name] : undefined;
    let flag: string;
    let value: string | boolean;
    if (booleanFlag !== undefined && equals === -1) {
      flag = booleanFlag;
      value = true;
    } else if (valueFlag !== undefined) {
      flag = valueFlag;
      const given = equals === -1 ? rest[++index] : token.slice(equals + 1);
      if (given === undefined || given === '' || given.startsWith('-')) return undefined;
      value = given;
    } else {
      return undefined;
    }
    if (Object.hasOwn(flags, flag)) return undefined;
    flags[flag] = value;
  }
  return {command, flags};
}

/** Runs argv on the fast path; false when it is not one the fast path takes. */
export async function runFast(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.SANDMAN_FAST_PATH === '0') return false;
  const invocation = parseFastInvocation(argv);
  if (!invocation) return false;
  const {command, flags} = invocation;
  // As oclif's jsonEnabled(): --json, or the <BIN>_CONTENT_TYPE=json environment variable.
  const json = flags.json === true || env.SANDMAN_CONTENT_TYPE?.toLowerCase() === 'json';
  const colour = colourWanted(json);
  const out: CommandOutput = {json, colour, log: (line) => process.stdout.write(line + '\n')};
  // As oclif does: a reader that goes away (`| head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  try {
    const result = await command.run(settingsFromFlags(flags), flags, out);
    if (json) writeJson(result);
  } catch (error) {
    process.exitCode = await reportError(error, {json, colour, command: command.id});
  }
  return true;
}
