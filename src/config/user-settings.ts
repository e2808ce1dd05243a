// What users may ask for, globally and per group (docs/admin/users-and-limits.md "Users and limits").
import {isAccountName} from '../users/user-name.js';
import {percent} from './gpu-idle-settings.js';
import {
  byteSize,
  duration,
  durationOrZero,
  fail,
  integerIn,
  listItems,
  type Parser,
  type Settings,
} from './setting.js';

/** `40h/7d`: so many GPU-hours over a rolling window. */
export interface GpuHourBudget {
  hours: number;
  windowMs: number;
  text: string;
}

/** What a group (or a user) may set: each one overrides the global setting of the same meaning. */
export interface GroupLimits {
  userMaxSessions?: number;
  allowedProfiles?: string[];
  userMaxTtl?: number;
  gpuHourBudget?: GpuHourBudget;
  /** Bytes a home may hold (docs/admin/disk-quotas.md). */
  quota?: number;
  /** docs/admin/notifications-and-idleness.md "GPU idleness": percent, and milliseconds (0: off). */
  idleGpuThreshold?: number;
  idleGpuWindow?: number;
  /** Longest `sandman keep` in milliseconds; 0: not allowed (docs/admin/sessions.md "The in-session command"). */
  userMaxKeep?: number;
  /** How long ahead an idle stop is told (docs/admin/notifications-and-idleness.md "Notifications"); 0: not told. */
  idleWarnBefore?: number;
  /** Batch jobs running at once (docs/admin/jobs.md). */
  userMaxJobs?: number;
}

/**
 * Every limit a group or user may set, once: the known names in errors and the settings reference
 * (docs/reference/settings.md marks these rows). The type makes it list every GroupLimits key.
 */
export const GROUP_LIMIT_NAMES = Object.keys({
  userMaxSessions: true,
  allowedProfiles: true,
  userMaxTtl: true,
  gpuHourBudget: true,
  quota: true,
  idleGpuThreshold: true,
  idleGpuWindow: true,
  userMaxKeep: true,
  idleWarnBefore: true,
  userMaxJobs: true,
} satisfies Record<keyof GroupLimits, true>) as (keyof GroupLimits)[];

/** `40h/7d` (GPU-hours over a rolling window); `none` or empty: no budget. */
export function parseGpuHourBudget(raw: unknown, where: string): GpuHourBudget | undefined {
  const value = String(raw).trim();
  if (value === '' || value === 'none') return undefined;
  const match = /^(\d+(?:\.\d+)?)h?\/(\S+)$/.exec(value);
  if (!match) return fail(where, 'must be GPU-hours over a window, e.g. 40h/7d');
  const hours = Number(match[1]);
  const windowMs = duration(match[2], where);
  return {hours, windowMs, text: value};
}

/** `3g.20gb,1g.5gb` (or a list); `whole` stands for a whole GPU; empty: every profile. */
const profileList: Parser<string[]> = (raw, where) => {
  const items = listItems(raw);
  for (const item of items)
    if (!/^[0-9a-z.+]+$/.test(item))
      fail(where, `${JSON.stringify(item)} is not a MIG profile name (or "whole")`);
  return items;
};

/** The limits a group may set, each checked as its global setting is. */
function groupLimits(raw: unknown, where: string): GroupLimits {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail(where, 'must be an object of limits');
  const limits: GroupLimits = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const at = `${where}: ${key}`;
    if (key === 'userMaxSessions') limits.userMaxSessions = integerIn(1, 1000)(value, at);
    else if (key === 'allowedProfiles') limits.allowedProfiles = profileList(value, at);
    else if (key === 'userMaxTtl') limits.userMaxTtl = duration(value, at);
    else if (key === 'gpuHourBudget') limits.gpuHourBudget = parseGpuHourBudget(value, at);
    else if (key === 'quota') limits.quota = byteSize(value, at);
    else if (key === 'idleGpuThreshold') limits.idleGpuThreshold = percent(value, at);
    else if (key === 'idleGpuWindow') limits.idleGpuWindow = durationOrZero(value, at);
    else if (key === 'userMaxKeep') limits.userMaxKeep = durationOrZero(value, at);
    else if (key === 'idleWarnBefore') limits.idleWarnBefore = durationOrZero(value, at);
    else if (key === 'userMaxJobs') limits.userMaxJobs = integerIn(1, 1000)(value, at);
    else fail(where, `unknown limit ${JSON.stringify(key)} (known: ${GROUP_LIMIT_NAMES.join(', ')})`);
  }
  return limits;
}

export const USER_LIMIT_SETTINGS = {
  userMaxSessions: {
    description: 'sessions one user may hold at once (a group or the user may set their own)',
    parse: integerIn(1, 1000),
    default: 1,
  },
  allowedProfiles: {
    description: 'MIG profiles users may ask for, comma-separated ("whole" for a whole GPU)',
    defaultText: 'every profile',
    default: '',
    parse: profileList,
  },
  userMaxTtl: {
    description: 'longest TTL a user may ask for, creation or extension',
    defaultText: 'maxTtl',
    parse: duration,
  },
  gpuHourBudget: {
    description: 'GPU-hours a user may use over a rolling window, e.g. 40h/7d (as usage counts them)',
    defaultText: 'none',
    parse: (raw, where) => parseGpuHourBudget(raw, where),
  },
  queueTimeout: {
    description: 'a queued create (session create --queue) older than this is ended by the reaper',
    parse: duration,
    default: '24h',
  },
} satisfies Settings;

export const GROUP_SETTINGS = {
  groups: {
    description:
      'named groups of limits, e.g. {"students": {"userMaxSessions": 1, "gpuHourBudget": "20h/7d"}}',
    defaultText: 'none',
    default: {},
    parse: (raw, where): Record<string, GroupLimits> => {
      let value = raw;
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch {
          return fail(where, 'must be a JSON object of groups');
        }
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return fail(where, 'must be an object of groups');
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, limits]): [string, GroupLimits] => {
          if (!isAccountName(name)) fail(where, `${JSON.stringify(name)} is not a group name`);
          return [name, groupLimits(limits, `${where}: group ${name}`)];
        }),
      );
    },
  },
} satisfies Settings;
