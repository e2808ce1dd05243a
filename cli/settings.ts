import {loadConfig, type Config, type SettingName} from '../src/config.js';

/**
 * The configuration for a command (SPEC.md section 7) from its parsed flags; `extra` maps settings to
 * the command's own flags that set them (`--state` sets stateFile for every command).
 */
export function settingsFromFlags(
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

/** The settings that `session create`'s flags set (cli/session-flags.ts declares the flags). */
export const creationSettingNames: Partial<Record<SettingName, string>> = {
  image: 'image',
  workspaceRoot: 'workspace-root',
  sshPortStart: 'ssh-port-start',
  sshPortEnd: 'ssh-port-end',
  sshHost: 'ssh-host',
  cpus: 'cpus',
  memory: 'memory',
  pids: 'pids',
};
