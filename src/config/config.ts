import path from 'node:path';

import {errnoCode, invalidInput} from '../core/errors.js';
import {API_SETTINGS} from './api-settings.js';
import {APP_SETTINGS} from './app-settings.js';
import {DISK_SETTINGS} from './disk-settings.js';
import {GATEWAY_SETTINGS} from './gateway-settings.js';
import {GPU_IDLE_SETTINGS} from './gpu-idle-settings.js';
import {HOST_FILE_SETTINGS, HOST_SETTINGS} from './host-settings.js';
import {NETWORK_SETTINGS} from './network-settings.js';
import {NOTIFY_SETTINGS} from './notify-settings.js';
import {OIDC_SETTINGS} from './oidc-settings.js';
import {IDLE_SETTINGS, STOPPED_SETTINGS} from './reap-settings.js';
import {READY_SETTINGS, SESSION_SETTINGS} from './session-settings.js';
import {SELF_SETTINGS} from './self-settings.js';
import type {SettingDefinition} from './setting.js';
import {SSH_SETTINGS} from './ssh-settings.js';
import {GROUP_SETTINGS, USER_LIMIT_SETTINGS} from './user-settings.js';
import {JOB_SETTINGS} from './job-settings.js';

export type {IdRange} from './host-settings.js';
export {canonicalCidr} from './network-settings.js';
export {isImageReference} from './session-settings.js';
export type {SettingDefinition} from './setting.js';
export {parseGpuHourBudget, type GpuHourBudget, type GroupLimits} from './user-settings.js';

/**
 * Every setting, each declared once in its concern's file under src/config/. The order is the one
 * README's table, setup's flags and the units' Environment= lines have always had.
 */
const TABLE = {
  ...HOST_SETTINGS,
  ...SSH_SETTINGS,
  ...SESSION_SETTINGS,
  ...HOST_FILE_SETTINGS,
  ...READY_SETTINGS,
  ...IDLE_SETTINGS,
  ...API_SETTINGS,
  ...USER_LIMIT_SETTINGS,
  ...GATEWAY_SETTINGS,
  ...STOPPED_SETTINGS,
  ...DISK_SETTINGS,
  ...GROUP_SETTINGS,
  ...NETWORK_SETTINGS,
  ...GPU_IDLE_SETTINGS,
  ...SELF_SETTINGS,
  ...NOTIFY_SETTINGS,
  ...JOB_SETTINGS,
  ...OIDC_SETTINGS,
  ...APP_SETTINGS,
};

type Table = typeof TABLE;
export type SettingName = keyof Table;
/** Each setting's value: what its parser returns. */
type Values = {[K in SettingName]: Table[K] extends SettingDefinition<infer T> ? T : never};
/** The settings that always have a value: those with a default. */
type Defaulted = {[K in SettingName]: Table[K] extends {default: unknown} ? K : never}[SettingName];
type Flat<T> = {[K in keyof T]: T[K]};

/** The resolved settings (loadConfig), typed from the settings table: unset when there is no default. */
export type Config = Flat<
  {[K in Defaulted]: Values[K]} & {[K in Exclude<SettingName, Defaulted>]?: Values[K]}
>;
export type Backend = Config['backend'];
export type MigMode = Config['migMode'];

/** The settings table, each entry typed by its own value (flag help, README's table, setup). */
export const SETTINGS: {readonly [K in SettingName]: SettingDefinition<Values[K]>} = TABLE;
const SETTING_NAMES = Object.keys(SETTINGS) as SettingName[];

export const DEFAULT_CONFIG_FILE = '/etc/sandman/config.json';

/**
 * The flag that sets a setting on `setup`, which takes one for every setting: the setting's own
 * flag where it declares one (`--ssh-host`), else its name in kebab case (`auditLog` → `--audit-log`).
 */
export function setupFlagName(setting: SettingName): string {
  return SETTINGS[setting].flag ?? setting.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/**
 * A setting's value as the config file keeps it (`setup`): checked as loading would check it, then
 * numbers as JSON numbers (`31000`, `4`; a bare-number TTL stays minutes), lists as JSON arrays
 * (`hostAllow`, `egress`, `apiAllowedOrigins`), everything else as given (`60m`, `16g`).
 */
export function storedSetting(name: SettingName, raw: string, where: string): unknown {
  const parsed = SETTINGS[name].parse(raw, `invalid setting ${name}=${JSON.stringify(raw)} (from ${where})`);
  if (Array.isArray(parsed)) return parsed;
  // A JSON object given as text (`--groups '{"students": {...}}'`) is kept as the object.
  if (/^\s*\{/.test(raw)) return JSON.parse(raw) as unknown;
  if (/^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  return raw;
}

/** `stateFile` → `SANDMAN_STATE_FILE` (docs/reference/settings.md). */
export function envName(setting: string): string {
  return 'SANDMAN_' + setting.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export interface ConfigSources {
  /** Values from command-line flags, keyed by setting name; undefined means "not given". */
  flags?: Partial<Record<SettingName, unknown>>;
  /** Flag spelling per setting, for error messages (e.g. `--state`). */
  flagNames?: Partial<Record<SettingName, string>>;
  env?: NodeJS.ProcessEnv;
  /** Reads the config file (src/config/adapters/fs-config-file.ts; tests pass their own). */
  readFile: (file: string) => string;
  /** A config file named by SANDMAN_CONFIG may be missing too (setup is about to write it). */
  configFileOptional?: boolean;
}

/** The config file in use: SANDMAN_CONFIG, or /etc/sandman/config.json. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SANDMAN_CONFIG ? path.resolve(env.SANDMAN_CONFIG) : DEFAULT_CONFIG_FILE;
}

function readConfigFile(
  env: NodeJS.ProcessEnv,
  readFile: (file: string) => string,
  optional = false,
): {file: string; values: Record<string, unknown>} {
  const named = env.SANDMAN_CONFIG;
  const file = configFilePath(env);
  let textValue: string;
  try {
    textValue = readFile(file);
  } catch (error) {
    // The default file is optional; a file the operator named explicitly must exist.
    if ((!named || optional) && errnoCode(error) === 'ENOENT') return {file, values: {}};
    throw invalidInput(`cannot read config file ${file} (from SANDMAN_CONFIG): ${(error as Error).message}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(textValue);
  } catch (error) {
    throw invalidInput(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw invalidInput(`config file ${file} must hold a JSON object of settings`);
  }
  for (const key of Object.keys(values)) {
    if (!(key in SETTINGS)) {
      throw invalidInput(
        `config file ${file}: unknown setting ${JSON.stringify(key)} (known: ${Object.keys(SETTINGS).join(', ')})`,
      );
    }
  }
  return {file, values: values as Record<string, unknown>};
}

/** Resolves every setting by precedence flags → environment → config file → default, and validates it. */
export function loadConfig(sources: ConfigSources): Config {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const {file, values: fileValues} = readConfigFile(env, sources.readFile, sources.configFileOptional);
  const values: Partial<Values> = {};
  const origin: Partial<Record<SettingName, string>> = {};

  const resolve = <K extends SettingName>(name: K): void => {
    const definition = SETTINGS[name];
    const variable = envName(name);
    let raw: unknown;
    let where: string;
    if (flags[name] !== undefined) {
      raw = flags[name];
      where = `flag ${sources.flagNames?.[name] ?? name}`;
    } else if (env[variable] !== undefined && env[variable] !== '') {
      raw = env[variable];
      where = `environment ${variable}`;
    } else if (fileValues[name] !== undefined && fileValues[name] !== null) {
      raw = fileValues[name];
      where = `config file ${file}`;
    } else {
      raw = definition.default;
      where = 'default';
    }
    origin[name] = where;
    if (raw === undefined) return;
    values[name] = definition.parse(raw, `invalid setting ${name}=${JSON.stringify(raw)} (from ${where})`);
  };
  for (const name of SETTING_NAMES) resolve(name);

  if (!isComplete(values)) throw new Error('a setting with a default has no value');
  const result = values;
  if (result.sshPortStart > result.sshPortEnd) {
    throw invalidInput(
      `invalid port range ${result.sshPortStart}-${result.sshPortEnd}: sshPortStart (from ${origin.sshPortStart}) ` +
        `is greater than sshPortEnd (from ${origin.sshPortEnd})`,
    );
  }
  if (result.defaultTtl > result.maxTtl) {
    throw invalidInput(
      `invalid setting defaultTtl (from ${origin.defaultTtl}): longer than maxTtl (from ${origin.maxTtl})`,
    );
  }
  return result;
}

/** Whether every setting with a default got a value, as loadConfig's loop gives each one. */
function isComplete(values: Partial<Values>): values is Config {
  return SETTING_NAMES.every((name) => SETTINGS[name].default === undefined || values[name] !== undefined);
}

/** A setting's default as people read it: `60m`, `/srv/workspaces`, `this host's FQDN`, `none`. */
export function defaultText(name: SettingName): string {
  const definition = SETTINGS[name];
  return definition.defaultText ?? String(definition.default ?? 'none');
}

/** Flag help for a setting's flag: its description, default and environment variable. */
export function settingHelp(name: SettingName): string {
  return `${SETTINGS[name].description} (default ${defaultText(name)}; env ${envName(name)})`;
}
