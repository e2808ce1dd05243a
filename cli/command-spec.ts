/**
 * The shape of a command's spec (commands/.../NAME.spec.ts, beside its handler NAME.ts; the table,
 * cli/registry.ts, lists them): plain data that both doors read, the fast door (cli/fast-door.ts, no
 * oclif) and the oclif door (cli/oclif-door.ts, help and completion). Nothing here may import @oclif
 * (eslint enforces it).
 */
import type {Config, SettingName} from '../src/config/config.js';
import type {CommandOutput} from './output.js';
import type {Services} from './services.js';

export interface FlagSpec {
  kind: 'boolean' | 'string' | 'integer';
  description: string;
  char?: string;
  /** Other long names for the same flag (`--db` for `--state`). */
  aliases?: string[];
  /** May be given more than once; the handler gets the values in order. */
  multiple?: boolean;
  required?: boolean;
  default?: string;
  /** integer flags: the smallest value allowed. */
  min?: number;
  /** The setting this flag sets; its value goes through the settings table's validation. */
  setting?: SettingName;
}

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
}

export type Flags = Record<string, string | boolean | number | string[] | undefined>;

/** What a handler is given: named arguments, every positional argument in order, and flags. */
export interface Invocation {
  args: Record<string, string | undefined>;
  argv: string[];
  flags: Flags;
}

/** What a handler receives besides its invocation. */
export interface CommandContext {
  readonly out: CommandOutput;
  /** The package root (images/, bin/). */
  readonly root: string;
  /** The configuration, from this command's setting flags, the environment, the file, defaults. */
  settings(): Config;
  /** The settings given as flags on this command line (what `setup` keeps in the config file). */
  givenSettings(): Partial<Record<SettingName, string>>;
  /** The outside systems, wired for settings() (cli/services.ts). */
  services(): Services;
  /** The exit status when the command itself succeeded but reports one (ssh's remote command). */
  setExitCode(code: number): void;
}

/** Runs the command; what it returns is the --json document (nothing is printed when undefined). */
export type Handler = (input: Invocation, context: CommandContext) => Promise<unknown>;

export interface CommandSpec {
  /** oclif's ID: the words joined by ':' (`session:create`). */
  id: string;
  summary: string;
  description?: string;
  examples?: string[];
  /** Other IDs it answers to, not shown in help (`session:list`). */
  hiddenAliases?: string[];
  args?: ArgSpec[];
  /** Takes any number of positional arguments beyond `args` (rm's sessions, ssh's command). */
  variadic?: boolean;
  flags?: Record<string, FlagSpec>;
  /** Flags of which at most one may be given. */
  exclusive?: string[];
  /** Answered without loading oclif when its arguments are plain (cli/fast-door.ts). */
  fast: boolean;
  /** The config file named by SANDMAN_CONFIG need not exist yet (the command writes it). */
  writesConfigFile?: boolean;
  /** The command's file: its handler and its rendering. */
  load: () => Promise<{default: Handler}>;
}
