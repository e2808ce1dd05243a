import {parseByteSize} from '../core/byte-size.js';
import {parseDuration} from '../core/duration.js';
import {parseGpuHourBudget, type Config, type GpuHourBudget, type GroupLimits} from '../config/config.js';
import {durationOrZero} from '../config/setting.js';
import type {UserRecord} from '../state/state-data.js';

/** Where a limit came from: the user's own, their group's, or the global setting. */
export type LimitSource = 'user' | `group ${string}` | 'setting';

export interface Limit<T> {
  value: T;
  source: LimitSource;
}

export interface EffectiveLimits {
  userMaxSessions: Limit<number>;
  /** Empty: every profile. "whole" stands for a whole GPU. */
  allowedProfiles: Limit<string[]>;
  /** Milliseconds; maxTtl when no limit is set. */
  userMaxTtl: Limit<number>;
  gpuHourBudget: Limit<GpuHourBudget | undefined>;
  /** Bytes the home may hold; undefined: no quota (docs/admin/disk-quotas.md). */
  quota: Limit<number | undefined>;
  /** docs/admin/notifications-and-idleness.md "GPU idleness": percent; milliseconds (0: off). */
  idleGpuThreshold: Limit<number>;
  idleGpuWindow: Limit<number>;
  /** Longest `sandman keep` in milliseconds; 0: not allowed (docs/admin/sessions.md "The in-session command"). */
  userMaxKeep: Limit<number>;
  /** Milliseconds ahead an idle stop is told (docs/admin/notifications-and-idleness.md "Notifications"); 0: not told. */
  idleWarnBefore: Limit<number>;
  /** Batch jobs running at once (docs/admin/jobs.md). */
  userMaxJobs: Limit<number>;
}

/** A user's own quota that takes the group's or setting's away: the home has no limit. */
export const NO_QUOTA = 'none';

/** The user's own limits, parsed as the settings of the same names are. */
function userLimits(user: UserRecord | undefined, name: string): GroupLimits {
  const own = user?.limits ?? {};
  const where = `user ${name}'s limit`;
  return {
    ...(own.userMaxSessions !== undefined ? {userMaxSessions: own.userMaxSessions} : {}),
    ...(own.allowedProfiles !== undefined ? {allowedProfiles: own.allowedProfiles} : {}),
    ...(own.userMaxTtl !== undefined ? {userMaxTtl: parseDuration(own.userMaxTtl, `${where} maxTtl`)} : {}),
    ...(own.userMaxJobs !== undefined ? {userMaxJobs: own.userMaxJobs} : {}),
    ...(own.gpuHourBudget !== undefined ? {gpuHourBudget: parseGpuHourBudget(own.gpuHourBudget, where)} : {}),
    ...(own.quota !== undefined
      ? {quota: own.quota === NO_QUOTA ? undefined : parseByteSize(own.quota, `${where} quota`)}
      : {}),
    ...(own.idleGpuThreshold !== undefined ? {idleGpuThreshold: own.idleGpuThreshold} : {}),
    ...(own.idleGpuWindow !== undefined
      ? {idleGpuWindow: durationOrZero(own.idleGpuWindow, `${where} idleGpuWindow`)}
      : {}),
    ...(own.userMaxKeep !== undefined
      ? {userMaxKeep: durationOrZero(own.userMaxKeep, `${where} maxKeep`)}
      : {}),
    ...(own.idleWarnBefore !== undefined
      ? {idleWarnBefore: durationOrZero(own.idleWarnBefore, `${where} idleWarnBefore`)}
      : {}),
  };
}

/**
 * Each limit resolves user → group → global setting (docs/admin/users-and-limits.md "Users and limits"), and says where
 * it came from. A group the config file no longer declares is skipped (user show warns).
 */
export function effectiveLimits(config: Config, name: string, user: UserRecord | undefined): EffectiveLimits {
  const own = userLimits(user, name);
  const groupName = user?.group ?? undefined;
  const group = groupName ? config.groups[groupName] : undefined;
  const pick = <K extends keyof GroupLimits, T>(key: K, global: T): Limit<T> => {
    if (key in own) return {value: own[key] as T, source: 'user'};
    if (group && key in group) return {value: group[key] as T, source: `group ${groupName}`};
    return {value: global, source: 'setting'};
  };
  return {
    userMaxSessions: pick('userMaxSessions', config.userMaxSessions),
    allowedProfiles: pick('allowedProfiles', config.allowedProfiles),
    userMaxTtl: pick('userMaxTtl', config.userMaxTtl ?? config.maxTtl),
    gpuHourBudget: pick('gpuHourBudget', config.gpuHourBudget),
    quota: pick('quota', config.workspaceQuota),
    idleGpuThreshold: pick('idleGpuThreshold', config.idleGpuThreshold),
    idleGpuWindow: pick('idleGpuWindow', config.idleGpuWindow),
    userMaxKeep: pick('userMaxKeep', config.userMaxKeep),
    idleWarnBefore: pick('idleWarnBefore', config.idleWarnBefore),
    userMaxJobs: pick('userMaxJobs', config.userMaxJobs),
  };
}

/** Whether a device of this profile (null: a whole GPU) is one the user may have. */
export function profileAllowed(allowed: string[], profile: string | null): boolean {
  return allowed.length === 0 || allowed.includes(profile ?? 'whole');
}
