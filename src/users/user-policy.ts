import {isoSeconds} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {parseDuration} from '../core/duration.js';
import {invalidInput, policy} from '../core/errors.js';
import type {CreateRequest} from '../session/session-context.js';
import type {SessionRecord, UserRecord} from '../state/state-data.js';
import {profileAllowed, type EffectiveLimits} from './user-limits.js';

/**
 * What a user's limits refuse (docs/admin/users-and-limits.md "Users and limits"), each with the numbers and where the
 * limit came from: exit 8, before anything is reserved. Create and extend call these.
 */

/** A registered user's default GPU choice for a request that leaves it open (the TTL: sessionTtl). */
export function withUserDefaults(request: CreateRequest, user: UserRecord | undefined): CreateRequest {
  const gpu = user?.defaults?.gpu;
  return gpu && request.gpu.kind === 'default' ? {...request, gpu} : request;
}

/**
 * A create's TTL in milliseconds. One asked for is refused above maxTtl (exit 2) or userMaxTtl
 * (exit 8). None asked: the user's default TTL, else defaultTtl, capped by both limits; a default
 * is never refused, so a user whose userMaxTtl is under defaultTtl still gets a session (the
 * gateway's spawn on connect asks for none).
 */
export function sessionTtl(
  asked: string | undefined,
  user: {name: string; record: UserRecord | undefined},
  config: Pick<Config, 'defaultTtl' | 'maxTtl'>,
  limits: EffectiveLimits,
): number {
  if (asked === undefined) {
    const own = user.record?.defaults?.ttl;
    const fallback = own ? parseDuration(own, `user ${user.name}'s default TTL`) : config.defaultTtl;
    return Math.min(fallback, config.maxTtl, limits.userMaxTtl.value);
  }
  const ttl = parseDuration(asked, 'TTL');
  if (ttl > config.maxTtl)
    throw invalidInput(`TTL ${asked} is longer than maxTtl (${config.maxTtl / 60_000} minutes)`);
  checkTtl(user.name, ttl, limits);
  return ttl;
}

/** userMaxTtl: `ttl` (milliseconds) is what was asked. */
function checkTtl(user: string, ttl: number, limits: EffectiveLimits): void {
  if (ttl <= limits.userMaxTtl.value) return;
  throw policy(
    `${user} may ask for at most ${formatMinutes(limits.userMaxTtl.value)} (userMaxTtl, from ` +
      `${limits.userMaxTtl.source}); asked: ${formatMinutes(ttl)}`,
  );
}

/** userMaxTtl at extend, counted from creation like maxTtl (which applies after it). */
export function checkExtensionTtl(
  session: Pick<SessionRecord, 'id' | 'user' | 'created_at'>,
  next: number,
  limits: EffectiveLimits,
  maxTtl: number,
): void {
  const limit = Date.parse(session.created_at) + limits.userMaxTtl.value;
  if (next <= limit || limits.userMaxTtl.value >= maxTtl) return;
  throw policy(
    `cannot extend session ${session.id} to ${isoSeconds(new Date(next))}: ${session.user}'s sessions may last ` +
      `at most ${formatMinutes(limits.userMaxTtl.value)} (userMaxTtl, from ${limits.userMaxTtl.source}) from ` +
      `creation, i.e. until ${isoSeconds(new Date(limit))}`,
  );
}

/** allowedProfiles: a MIG profile (null: a whole GPU) the user may not have. */
export function checkProfile(user: string, profile: string | null, limits: EffectiveLimits): void {
  if (profileAllowed(limits.allowedProfiles.value, profile)) return;
  throw policy(
    `${user} may use ${limits.allowedProfiles.value.join(', ')} (allowedProfiles, from ` +
      `${limits.allowedProfiles.source}); asked for ${profile ? `MIG ${profile}` : 'a whole GPU'}`,
  );
}

/**
 * gpuHourBudget: a spent budget refuses a GPU session (or its extension, `prefix` saying so). The
 * usage accounting is asked only when a budget applies, so creates without one never read the log.
 */
export async function checkBudget(
  user: string,
  limits: EffectiveLimits,
  gpuHours:
    ((user: string, windowMs: number) => Promise<{used: number; oldestLeavesAt: number | null}>) | undefined,
  prefix = '',
): Promise<void> {
  const budget = limits.gpuHourBudget.value;
  if (!budget || !gpuHours) return;
  const {used, oldestLeavesAt} = await gpuHours(user, budget.windowMs);
  if (used < budget.hours) return;
  throw policy(
    `${prefix}${user} used ${used.toFixed(1)} of ${budget.hours} GPU-hours in the last ${budget.text.split('/')[1]} ` +
      `(gpuHourBudget, from ${limits.gpuHourBudget.source})` +
      (oldestLeavesAt === null ? '' : `; the oldest hour leaves the window at ${formatUtc(oldestLeavesAt)}`) +
      (prefix ? '' : '; a session without a GPU (--no-gpu) is still possible'),
    {used, budget: budget.hours, window: budget.text},
  );
}

/** `90 minutes`, `2 hour(s)`, `1 day(s)`: a limit as people read it. */
function formatMinutes(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % 1440 === 0) return `${minutes / 1440} day(s)`;
  if (minutes % 60 === 0) return `${minutes / 60} hour(s)`;
  return `${minutes} minutes`;
}

/** `2026-12-04 09:00 UTC` */
function formatUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}
