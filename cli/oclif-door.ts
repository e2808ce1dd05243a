/**
 * The oclif door: oclif Command classes generated from the command table, so help, shell
 * completion and usage errors stay oclif's while each command runs the same handler as through
 * the fast door. The whole CLI is bundled from here (scripts/bundle.mjs); oclif finds the commands
 * in COMMANDS (its "explicit" discovery strategy).
 */
import {Args, Command, Flags, execute, type Interfaces} from '@oclif/core';

import type {ArgSpec, CommandSpec, FlagSpec, Flags as FlagValues, Invocation} from './command-spec.js';
import {reportError} from './error-output.js';
import {COMMAND_TABLE, GLOBAL_FLAGS} from './registry.js';
import {runCommand} from './run-command.js';
import {colourWanted} from './terminal.js';

function oclifFlag(flag: FlagSpec, exclusive: string[] | undefined, helpGroup?: string) {
  const common = {
    description: flag.description,
    aliases: flag.aliases,
    required: flag.required,
    exclusive,
    helpGroup,
    ...(flag.char ? {char: flag.char as Interfaces.AlphabetLowercase} : {}),
  };
  if (flag.kind === 'boolean') return Flags.boolean(common);
  if (flag.kind === 'integer') return Flags.integer({...common, min: flag.min});
  if (flag.multiple) return Flags.string({...common, multiple: true});
  return Flags.string({...common, default: flag.default});
}

function oclifFlags(flags: Record<string, FlagSpec> = {}, exclusiveGroup: string[] = [], helpGroup?: string) {
  return Object.fromEntries(
    Object.entries(flags).map(([name, flag]) => {
      const exclusive = exclusiveGroup.includes(name)
        ? exclusiveGroup.filter((other) => other !== name)
        : undefined;
      return [name, oclifFlag(flag, exclusive, helpGroup)];
    }),
  );
}

const oclifArgs = (args: ArgSpec[] = []) =>
  Object.fromEntries(
    args.map((arg) => [arg.name, Args.string({description: arg.description, required: arg.required})]),
  );

/** oclif parses (and answers --help and usage errors); the handler runs as through the fast door. */
type Values = Record<string, unknown>;

abstract class SandmanCommand extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = oclifFlags(GLOBAL_FLAGS, [], 'GLOBAL');

  /** oclif's own errors (unknown flag, missing argument, ...) become sandman's error output. */
  override async catch(error: Error & {code?: string}): Promise<never> {
    if (error.code === 'EEXIT') throw error;
    const json = this.jsonEnabled();
    const code = await reportError(error, {json, colour: colourWanted(json), command: this.id});
    process.exitCode = code;
    return this.exit(code) as never;
  }
}

function commandClass(spec: CommandSpec): typeof SandmanCommand {
  return class extends SandmanCommand {
    static override summary = spec.summary;
    static override description = spec.description;
    static override examples = spec.examples ?? [];
    static override hiddenAliases = spec.hiddenAliases ?? [];
    static override strict = !spec.variadic;
    static override args = oclifArgs(spec.args);
    static override flags = oclifFlags(spec.flags, spec.exclusive);

    async run(): Promise<void> {
      const {args, argv, flags} = await this.parse(
        this.constructor as Interfaces.Input<Values, Values, Values>,
      );
      // Returns nothing, so oclif writes no JSON of its own: the runner writes the document.
      const invocation = {
        args: args as Invocation['args'],
        argv: argv as string[],
        flags: flags as FlagValues,
      };
      await runCommand(spec, invocation, {root: this.config.root});
    }
  };
}

export const COMMANDS = Object.fromEntries(COMMAND_TABLE.map((spec) => [spec.id, commandClass(spec)]));

export async function run(dir: string): Promise<void> {
  await execute({dir});
}
