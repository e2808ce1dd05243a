import {SETTINGS} from '../../src/config/config.js';
import {invalidInput} from '../../src/core/errors.js';
import type {UserGpuDefault} from '../../src/state/state-data.js';
import type {UserChanges} from '../../src/users/user-service.js';
import type {Flags} from '../../cli/command-spec.js';
import {readKeyFile} from '../../cli/key-file.js';
import {INHERIT} from './user-flags.js';

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
    email: removable(text('email')),
    webhook: removable(text('webhook')),
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
      idleGpuThreshold: limit('idle-gpu-threshold', (value) =>
        SETTINGS.idleGpuThreshold.parse(value, 'invalid --idle-gpu-threshold'),
      ),
      idleGpuWindow: limit('idle-gpu-window', (value) => value),
      userMaxKeep: limit('max-keep', (value) => value),
      idleWarnBefore: limit('idle-warn-before', (value) => value),
      userMaxJobs: limit('max-jobs', (value) => {
        if (!/^\d+$/.test(value))
          throw invalidInput(`invalid --max-jobs ${JSON.stringify(value)}: a whole number`);
        return Number(value);
      }),
    },
  };
}

function yesNo(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'yes' || value === 'no') return value === 'yes';
  throw invalidInput(`invalid --queue ${JSON.stringify(value)}: "yes" or "no"`);
}

/** A notice channel's flag: "" or "none" takes it away (null). */
function removable(value: string | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  return value === '' || value === 'none' ? null : value;
}
