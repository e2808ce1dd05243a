import {Command, Flags} from '@oclif/core';

import type {Config, SettingName} from '../src/config.js';
import {reportError} from './error-output.js';
import {writeJson, type CommandOutput} from './output.js';
import {settingsFromFlags} from './settings.js';
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
    return settingsFromFlags(flags, extra);
  }

  /** Where the shared command bodies in cli/ print (the same ones the fast path runs). */
  protected get output(): CommandOutput {
    return {json: this.jsonEnabled(), colour: this.colour, log: (line) => this.log(line)};
  }

  protected get colour(): boolean {
    return colourWanted(this.jsonEnabled());
  }

  override logJson(json: unknown): void {
    writeJson(json);
  }

  override async catch(error: Error & {code?: string}): Promise<never> {
    if (error.code === 'EEXIT') throw error;
    const code = await reportError(error, {json: this.jsonEnabled(), colour: this.colour, command: this.id});
    process.exitCode = code;
    return this.exit(code) as never;
  }
}
