import {formatTime} from '../../cli/output.js';
import type {UserView} from '../../src/users/user-service.js';
import {formatBytes} from '../../src/core/byte-size.js';
import {diskText} from '../../src/homes/disk-text.js';

/** `user show`: one user in full, as `session show` shows a session. */
export function userLines(view: UserView): string[] {
  const {limits} = view;
  const lines = [
    `User:       ${view.user} (uid ${view.uid})`,
    `Group:      ${view.group ?? 'none'}`,
    `Keys:       ${view.keys.length === 0 ? 'none (sessions get a generated key pair)' : view.keys.length}`,
    ...view.keys.map(
      (key) => `  ${key.fingerprint}  ${key.line.split(' ')[0]} ${key.line.split(' ').slice(2).join(' ')}`,
    ),
    `Defaults:   GPU ${view.defaults.gpu ?? 'as configured'}, TTL ${view.defaults.ttl ?? 'as configured'}` +
      (view.defaults.queue ? ', waits in line when nothing is free' : ''),
    `Limits:     sessions ${limits.max_sessions.value} (${limits.max_sessions.source})`,
    `            profiles ${limits.allowed_profiles.value.join(', ') || 'all'} (${limits.allowed_profiles.source})`,
    `            max TTL ${limits.max_ttl_minutes.value} minutes (${limits.max_ttl_minutes.source})`,
    `            GPU-hours ${limits.gpu_hour_budget.value ?? 'no budget'} (${limits.gpu_hour_budget.source})`,
    `            disk ${limits.quota.value === null ? 'no quota' : formatBytes(limits.quota.value)} (${limits.quota.source})`,
    `            GPU idle under ${limits.idle_gpu_threshold.value} % (${limits.idle_gpu_threshold.source}) for ` +
      `${limits.idle_gpu_window_minutes.value === 0 ? 'never (off)' : `${limits.idle_gpu_window_minutes.value} minutes`} (${limits.idle_gpu_window_minutes.source})`,
    `            keep ${limits.max_keep_minutes.value === 0 ? 'not allowed' : `up to ${limits.max_keep_minutes.value} minutes`} (${limits.max_keep_minutes.source})`,
    `            idle stop told ${limits.idle_warn_before_minutes.value} minutes ahead (${limits.idle_warn_before_minutes.source})`,
    `            jobs ${limits.max_jobs.value} at once (${limits.max_jobs.source})`,
  ];
  if (view.notify.email || view.notify.webhook)
    lines.push(
      `Notices:    ${[view.notify.email, view.notify.webhook && 'webhook ' + new URL(view.notify.webhook).origin + '/…'].filter(Boolean).join(', ')}`,
    );
  if (view.disk) lines.push(`Disk:       ${diskText(view.disk)}`);
  if (view.gpu_hours)
    lines.push(
      `GPU-hours:  ${view.gpu_hours.used.toFixed(2)} of ${view.gpu_hours.budget} used in the last ${view.gpu_hours.window}, ${view.gpu_hours.left.toFixed(2)} left`,
    );
  lines.push(
    `Sessions:   ${view.sessions}`,
    `Home:       ${view.workspace}`,
    `Added:      ${formatTime(view.added_at)}`,
  );
  for (const warning of view.warnings) lines.push(`Note:       ${warning}`);
  return lines;
}
