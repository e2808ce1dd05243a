import type {CommandSpec, FlagSpec} from '../cli/command-spec.js';
import {SETTINGS, settingHelp, setupFlagName, type SettingName} from '../src/config/config.js';

/** `setup` takes a flag for every setting an admin sets at install: what it is given it keeps. */
const SETUP_SETTING_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  (Object.keys(SETTINGS) as SettingName[])
    .filter((setting) => setting !== 'stateFile')
    .map((setting) => [
      setupFlagName(setting),
      {
        kind: 'string',
        description: settingHelp(setting),
        aliases: SETTINGS[setting].flagAliases,
        setting,
      } satisfies FlagSpec,
    ]),
);

/** `sandman setup`: help, arguments and flags (data only); its handler is setup.ts. */
const spec: CommandSpec = {
  id: 'setup',
  summary: 'Set up this host (directories, image, reaper, network, firewall, config file), or undo it',
  description:
    'Each step checks first and changes only what is missing: a second run changes nothing and says so. ' +
    'Settings given as flags are kept in the config file, with their types (values already there stay unless ' +
    '--force); where the reaper went (--unit-dir, systemd or cron) is remembered for later runs and for doctor. ' +
    '--remove undoes what setup made (reaper, firewall rules, network, the image it built); homes, the state ' +
    'file and the CA stay unless --purge.',
  examples: [
    '<%= config.bin %> setup --base nvidia/cuda:12.6.3-runtime-ubuntu24.04 --ssh-host gpu01.example.org',
    '<%= config.bin %> setup --dry-run',
    '<%= config.bin %> setup --remove --dry-run',
    '<%= config.bin %> setup --remove --purge --force --yes',
  ],
  flags: {
    base: {kind: 'string', description: 'base image, when the workspace image has to be built'},
    gateway: {
      kind: 'boolean',
      description:
        "also the SSH gateway: its keys, and its socket (gatewayPort) and service beside the reaper's units; remembered",
    },
    'self-serve': {
      kind: 'boolean',
      description:
        "also the in-session sandman's socket (sessions network gateway, selfServicePort) and service; remembered",
    },
    'unit-dir': {
      kind: 'string',
      description: 'write the reaper units here and enable nothing (remembered; default: systemd or cron)',
    },
    'cron-file': {
      kind: 'string',
      description:
        'cron file for the reaper on a host without systemd (remembered; default /etc/cron.d/sandman)',
    },
    'dry-run': {kind: 'boolean', description: 'print each step it would take, change nothing'},
    force: {
      kind: 'boolean',
      description: 'replace values already in the config file; with --remove, remove running sessions first',
    },
    remove: {kind: 'boolean', description: 'undo what setup made (homes, state file and CA stay)'},
    purge: {
      kind: 'boolean',
      description: 'with --remove: also the homes, the state file, keys and CA (asks on a terminal)',
    },
    yes: {kind: 'boolean', char: 'y', description: 'do not ask before --purge (needed without a terminal)'},
    ...SETUP_SETTING_FLAGS,
  },
  fast: true,
  writesConfigFile: true,
  load: () => import('./setup.js'),
};

export default spec;
