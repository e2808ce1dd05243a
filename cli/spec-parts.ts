/**
 * What several command specs share (commands/.../NAME.spec.ts): the flag a setting declares, the
 * flags every command has, and the session argument. Data only, like the specs (no oclif).
 */
import {SETTINGS, settingHelp, type SettingName} from '../src/config/config.js';
import type {ArgSpec, FlagSpec} from './command-spec.js';

/** The flag that sets a setting, as the settings table declares it (name, aliases, help). */
export function settingFlag(setting: SettingName): [string, FlagSpec] {
  const {flag, flagAliases} = SETTINGS[setting];
  if (!flag) throw new Error(`setting ${setting} has no flag`);
  return [flag, {kind: 'string', description: settingHelp(setting), aliases: flagAliases, setting}];
}

/** Every command has --json (oclif's json flag) and these. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = Object.fromEntries([settingFlag('stateFile')]);

export const SESSION_ARG: ArgSpec = {
  name: 'session',
  description: 'session ID, unique ID prefix, or user name',
  required: true,
};
