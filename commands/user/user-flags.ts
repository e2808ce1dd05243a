import {invalidInput} from '../../src/errors.js';
import type {UserGpuDefault} from '../../src/state/state-data.js';
import type {UserChanges} from '../../src/users/user-service.js';
import type {Flags} from '../../cli/command-spec.js';
import {readKeyFile, sshKeyFlag} from '../../cli/key-file.js';
import type {FlagSpec} from '../../cli/command-spec.js';

/** The word that takes a user's own limit away, so the group's or the setting's applies again. */
export const INHERIT = 'inherit';

/** `user add` and `user set`: keys, group, defaults for new sessions, limits (README "Users and limits"). */
export const USER_FLAGS: Record<string, FlagSpec> = {
  'ssh-key': sshKeyFlag("a public key file the user's sessions accept", true),
  group: {
    kind: 'string',
    description: 'the group whose limits apply (declared in the config file\'s "groups")',
  },
  profile: {kind: 'string', description: 'default for new sessions: a MIG device of this profile'},
  gpu: {kind: 'string', description: 'default for new sessions: "any" free whole GPU'},
  'no-gpu': {kind: 'boolean', description: 'default for new sessions: no GPU'},
  ttl: {kind: 'string', description: 'default TTL of new sessions (90m, 2h, 1d)'},
  queue: {
    kind: 'string',
    description:
      'default for sessions the SSH gateway starts: "yes" waits in line when nothing is free, "no" says what is free',
  },
  'max-sessions': {
    kind: 'string',
    description: `sessions at once (userMaxSessions; "${INHERIT}": the group's or setting's)`,
  },
  profiles: {
    kind: 'string',
    description: `MIG profiles allowed, comma-separated, "whole" for a whole GPU (allowedProfiles; "${INHERIT}")`,
  },
  'max-ttl': {kind: 'string', description: `longest TTL the user may ask for (userMaxTtl; "${INHERIT}")`},
  'gpu-hours': {
    kind: 'string',
    description: `GPU-hour budget over a window, e.g. 40h/7d (gpuHourBudget; "${INHERIT}")`,
  },
  quota: {
    kind: 'string',
    description: `disk limit of the home, e.g. 50g, or "none" (workspaceQuota; "${INHERIT}"); applies at once`,
  },
};

export const USER_EXCLUSIVE = ['profile', 'gpu', 'no-gpu'];

/** The flags as changes to a user; a value of "inherit" removes the user's own limit. */
export async function userChanges(flags: Flags): Promise<UserChanges> {
  const text = (name: string) => flags[name] as string | undefined;
  const limit = <T>(name: string, parse: (value: string) => T): T | null | undefined => {
    const value = text(name);
    return value === undefined ? undefined : value === INHERIT ? null : parse(value);
  };
  let gpu: UserGpuDefault | undefined;
  if (flags['no-gpu']) gpu = {kind: 'none'};
  else if (text('profile') !== undefined) gpu = {kind: 'profile', profile: text('profile')!};
  else if (text('gpu') !== undefined) {
    if (text('gpu') !== 'any')
      throw invalidInput('--gpu for a user\'s default takes "any" (a free whole GPU)');
    gpu = {kind: 'gpu', ref: 'any'};
  }
  return {
    keys: await Promise.all(
      ((flags['ssh-key'] as string[] | undefined) ?? []).map((file) => readKeyFile(file, 'key file')),
    ),
    group: text('group') === undefined ? undefined : text('group') === '' ? null : text('group'),
    gpu,
    ttl: text('ttl'),
    queue: yesNo(text('queue')),
    limits: {
      userMaxSessions: limit('max-sessions', (value) => {
        if (!/^\d+$/.test(value))
          throw invalidInput(`invalid --max-sessions ${JSON.stringify(value)}: a whole number`);
        return Number(value);
      }),
      allowedProfiles: limit('profiles', (value) =>
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      ),
      userMaxTtl: limit('max-ttl', (value) => value),
      gpuHourBudget: limit('gpu-hours', (value) => value),
      quota: limit('quota', (value) => value),
    },
  };
}

function yesNo(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'yes' || value === 'no') return value === 'yes';
  throw invalidInput(`invalid --queue ${JSON.stringify(value)}: "yes" or "no"`);
}
