/**
 * Runs one command from the table, whichever door parsed it: builds the handler's context, calls
 * the handler, writes its --json document, and turns any failure into output and an exit code
 * (cli/error-output.ts is the one place that does that).
 */
import {readConfigText} from '../src/config/adapters/fs-config-file.js';
import {loadConfig, type Config, type SettingName} from '../src/config/config.js';
import type {CommandContext, CommandSpec, FlagSpec, Invocation} from './command-spec.js';
import {reportError} from './error-output.js';
import {writeJson, type CommandOutput} from './output.js';
import {GLOBAL_FLAGS} from './registry.js';
import {wire, type Services} from './services.js';
import {colourWanted} from './terminal.js';

/** As oclif's jsonEnabled(): --json, or SANDMAN_CONTENT_TYPE=json in the environment. */
export function jsonWanted(flags: Invocation['flags'], env: NodeJS.ProcessEnv = process.env): boolean {
  return flags.json === true || env.SANDMAN_CONTENT_TYPE?.toLowerCase() === 'json';
}

/** The configuration from the flags that set settings (docs/admin/install.md "Configuration" for the precedence). */
export function settingsFromFlags(spec: CommandSpec, flags: Invocation['flags']): Config {
  const values: Partial<Record<SettingName, unknown>> = {};
  const names: Partial<Record<SettingName, string>> = {};
  const declared: Array<[string, FlagSpec]> = Object.entries({...GLOBAL_FLAGS, ...spec.flags});
  for (const [flag, definition] of declared) {
    if (!definition.setting) continue;
    values[definition.setting] = flags[flag];
    names[definition.setting] = `--${flag}`;
  }
  return loadConfig({
    flags: values,
    flagNames: names,
    readFile: readConfigText,
    configFileOptional: spec.writesConfigFile,
  });
}

export async function runCommand(
  spec: CommandSpec,
  invocation: Invocation,
  options: {root: string; env?: NodeJS.ProcessEnv},
): Promise<void> {
  const json = jsonWanted(invocation.flags, options.env);
  const colour = colourWanted(json);
  // As oclif's this.log: with --json, stdout carries the one JSON document and nothing else.
  const out: CommandOutput = {
    json,
    colour,
    log: json ? () => undefined : (line) => process.stdout.write(line + '\n'),
  };
  // A reader that goes away (`| head`) is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  let config: Config | undefined;
  let services: Services | undefined;
  const context: CommandContext = {
    out,
    root: options.root,
    settings: () => (config ??= settingsFromFlags(spec, invocation.flags)),
    givenSettings: () =>
      Object.fromEntries(
        Object.entries({...GLOBAL_FLAGS, ...spec.flags}).flatMap(([flag, definition]) =>
          definition.setting && typeof invocation.flags[flag] === 'string'
            ? [[definition.setting, invocation.flags[flag] as string]]
            : [],
        ),
      ),
    services: () => (services ??= wire(context.settings())),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
  try {
    const {default: handler} = await spec.load();
    const result = await handler(invocation, context);
    if (json && result !== undefined) writeJson(result);
  } catch (error) {
    process.exitCode = await reportError(error, {json, colour, command: spec.id});
  }
}
