import {Command, Flags} from '@oclif/core';

import {loadConfig, type Config, type SettingName} from '../src/config.js';
import type {SandmanError} from '../src/errors.js';
import {errorJson, toSandmanError} from './error-output.js';
import {colourWanted} from './terminal.js';

/**
 * Every sandman command: `--json` (oclif's json flag), `--state`, configuration loading, and the
 * single place where errors become output and exit codes.
 */
export abstract class SandmanCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    state: Flags.string({
      aliases: ['db'],
      description: 'state file (default /var/lib/sandman/state.json; env SANDMAN_STATE_FILE)',
      helpGroup: 'GLOBAL',
    }),
  };

  /** Resolves the configuration; `extra` maps settings to this command's flags that set them. */
  protected loadSettings(
    flags: Record<string, unknown>,
    extra: Partial<Record<SettingName, string>> = {},
  ): Config {
    const mapping: Partial<Record<SettingName, string>> = {stateFile: 'state', ...extra};
    const values: Partial<Record<SettingName, unknown>> = {};
    const names: Partial<Record<SettingName, string>> = {};
    for (const [setting, flag] of Object.entries(mapping) as [SettingName, string][]) {
      values[setting] = flags[flag];
      names[setting] = `--${flag}`;
    }
    return loadConfig({flags: values, flagNames: names});
  }

  protected get colour(): boolean {
    return colourWanted(this.jsonEnabled());
  }

  override logJson(json: unknown): void {
    // Plain JSON, never colourised: scripts parse it.
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  }

  override async catch(error: Error & {code?: string}): Promise<never> {
    if (error.code === 'EEXIT') throw error;
    const failure: SandmanError = toSandmanError(error);
    if (this.jsonEnabled()) {
      this.logJson(errorJson(failure));
    } else {
      const chalk = this.colour ? (await import('chalk')).default : undefined;
      const label = chalk ? chalk.red.bold('Error:') : 'Error:';
      process.stderr.write(`${label} ${failure.message}\n`);
      if (failure.kind === 'INVALID_INPUT' && /flag|argument/i.test(failure.message)) {
        process.stderr.write(`See "sandman ${this.id?.replace(/:/g, ' ') ?? ''} --help".\n`);
      }
    }
    process.exitCode = failure.exitCode;
    return this.exit(failure.exitCode) as never;
  }
}
