import type {UserView} from '../../src/users/user-service.js';

/**
 * GET /me for a user login (docs/admin/console-and-sign-in.md "User logins"): who she is, her defaults, her effective limits,
 * her GPU-hours used and left in her budget's window (null without a budget), her sessions and
 * queued requests. Her public keys and home are `user show`'s, not repeated here.
 */
export function meObject(user: UserView, sessions: unknown[], queued: unknown[]) {
  return {
    kind: 'user',
    user: user.user,
    group: user.group,
    defaults: user.defaults,
    limits: {
      max_sessions: user.limits.max_sessions.value,
      allowed_profiles: user.limits.allowed_profiles.value,
      max_ttl_minutes: user.limits.max_ttl_minutes.value,
      gpu_hour_budget: user.limits.gpu_hour_budget.value,
      quota: user.limits.quota.value,
    },
    gpu_hours: user.gpu_hours ?? null,
    disk: user.disk ?? null,
    sessions,
    queued,
  };
}
