/**
 * `reap` (run every minute by the timer), `session ls` and `session create` (run inside scripts)
 * without oclif. Loading @oclif/core and routing through it is most of their start-up
 * (BENCHMARKS.md), so bin/run.js tries this first. It runs the same command bodies and error
 * output as the oclif commands, but only for plain invocations it parses completely; anything else
 * (--help, unknown or repeated flags, a value that looks like a flag, `--`, a missing or extra
 * argument, two GPU choices) goes to oclif, which then answers the usual way.
 * SANDMAN_FAST_PATH=0 sends everything through oclif.
 */
// Only the argument tables and the parser are here: every command passes through this module on
// its way to oclif, so what a fast command runs (cli/fast-run.ts) loads once it is known to be one.

export type FastFlags = Record<string, string | boolean | string[]>;

export interface FastCommand {
  /** oclif's command ID, for the --help pointer in usage errors. */
  id: string;
  /** Command-line token → flag name. */
  booleans: Record<string, string>;
  values: Record<string, string>;
  /** Value flags that may be given more than once (collected in order). */
  multiple?: string[];
  /** Flags of which at most one may be given. */
  exclusive?: string[];
  /** How many arguments the command takes here: exactly this many, or it is oclif's to handle. */
  args?: number;
}

export interface FastInvocation {
  command: FastCommand;
  flags: FastFlags;
  args: string[];
}

// The flags every sandman command has (cli/base-command.ts): --json and --state (alias --db).
const GLOBAL_BOOLEANS = {'--json': 'json'};
const GLOBAL_VALUES = {'--state': 'state', '--db': 'state'};

const sessionLs: FastCommand = {
  id: 'session:ls',
  booleans: {...GLOBAL_BOOLEANS, '-q': 'quiet', '--quiet': 'quiet', '--expired': 'expired'},
  values: {...GLOBAL_VALUES, '--user': 'user'},
};

const reap: FastCommand = {
  id: 'reap',
  booleans: {...GLOBAL_BOOLEANS, '--dry-run': 'dry-run'},
  values: GLOBAL_VALUES,
};

/** The flags of commands/session/create.ts and cli/session-flags.ts, as command-line tokens. */
const CREATE_VALUES = [
  'ttl',
  'profile',
  'mig-instance',
  'gpu',
  'ssh-key',
  'env',
  'image',
  'workspace-root',
  'ssh-port-start',
  'ssh-port-end',
  'ssh-host',
  'cpus',
  'memory',
  'pids',
];

const sessionCreate: FastCommand = {
  id: 'session:create',
  booleans: {...GLOBAL_BOOLEANS, ...tokens(['no-gpu', 'password', 'no-wait'])},
  values: {...GLOBAL_VALUES, ...tokens(CREATE_VALUES)},
  multiple: ['env'],
  exclusive: ['profile', 'mig-instance', 'gpu', 'no-gpu'],
  // Without USER, create asks on a terminal: that stays with oclif.
  args: 1,
};

function tokens(names: string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [`--${name}`, name]));
}

/** By oclif command ID; test/unit/fast-path.test.ts holds these tables to the oclif flags. */
export const FAST_COMMANDS: Record<string, FastCommand> = {
  [sessionLs.id]: sessionLs,
  [reap.id]: reap,
  [sessionCreate.id]: sessionCreate,
};

/** The command words each fast command answers to (oclif's hidden alias `session list` included). */
function commandFor(argv: string[]): {command: FastCommand; rest: string[]} | undefined {
  if (argv[0] === 'reap') return {command: reap, rest: argv.slice(1)};
  if (argv[0] === 'session' && (argv[1] === 'ls' || argv[1] === 'list')) {
    return {command: sessionLs, rest: argv.slice(2)};
  }
  if (argv[0] === 'session' && argv[1] === 'create') return {command: sessionCreate, rest: argv.slice(2)};
  return undefined;
}

/** The command, its flags and arguments, or undefined when this argv is one for oclif to handle. */
export function parseFastInvocation(argv: string[]): FastInvocation | undefined {
  const found = commandFor(argv);
  if (!found) return undefined;
  const {command, rest} = found;
  const flags: FastFlags = {};
  const args: string[] = [];
  for (let index = 0; index < rest.length; index++) {
    const token = rest[index]!;
    if (!token.startsWith('-')) {
      args.push(token);
      continue;
    }
    const equals = token.startsWith('--') ? token.indexOf('=') : -1;
    const name = equals === -1 ? token : token.slice(0, equals);
    const booleanFlag = Object.hasOwn(command.booleans, name) ? command.booleans[name] : undefined;
    const valueFlag = Object.hasOwn(command.values, name) ? command.values[name] : undefined;
    if (booleanFlag !== undefined && equals === -1) {
      if (Object.hasOwn(flags, booleanFlag)) return undefined;
      flags[booleanFlag] = true;
    } else if (valueFlag !== undefined) {
      const given = equals === -1 ? rest[++index] : token.slice(equals + 1);
      if (given === undefined || given === '' || given.startsWith('-')) return undefined;
      if (command.multiple?.includes(valueFlag)) {
        flags[valueFlag] = [...((flags[valueFlag] as string[] | undefined) ?? []), given];
      } else {
        if (Object.hasOwn(flags, valueFlag)) return undefined;
        flags[valueFlag] = given;
      }
    } else {
      return undefined;
    }
  }
  if (args.length !== (command.args ?? 0)) return undefined;
  if ((command.exclusive ?? []).filter((flag) => Object.hasOwn(flags, flag)).length > 1) return undefined;
  return {command, flags, args};
}

/** Runs argv on the fast path; false when it is not one the fast path takes. */
export async function runFast(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (env.SANDMAN_FAST_PATH === '0') return false;
  const invocation = parseFastInvocation(argv);
  if (!invocation) return false;
  const {runFastInvocation} = await import('./fast-run.js');
  await runFastInvocation(invocation, env);
  return true;
}
