/** The flags `user add` and `user set` share (their specs); user-changes.ts reads them. */
import type {FlagSpec} from '../../cli/command-spec.js';
import {sshKeyFlag} from '../../cli/key-file.js';

/** The word that takes a user's own limit away, so the group's or the setting's applies again. */
export const INHERIT = 'inherit';

/** `user add` and `user set`: keys, group, defaults for new sessions, limits (docs/admin/users-and-limits.md "Users and limits"). */
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
  'max-jobs': {
    kind: 'string',
    description: `batch jobs running at once (userMaxJobs; "${INHERIT}": the group's or setting's)`,
  },
  quota: {
    kind: 'string',
    description: `disk limit of the home, e.g. 50g, or "none" (workspaceQuota; "${INHERIT}"); applies at once`,
  },
  'idle-gpu-threshold': {
    kind: 'string',
    description: `GPU utilisation in percent under which the device counts as idle (idleGpuThreshold; "${INHERIT}")`,
  },
  'idle-gpu-window': {
    kind: 'string',
    description: `how long under the threshold before reap stops the session, 0: never (idleGpuWindow; "${INHERIT}")`,
  },
  'max-keep': {
    kind: 'string',
    description: `longest \`sandman keep\` inside a session, e.g. 8h, 0 for none (userMaxKeep; "${INHERIT}")`,
  },
  'idle-warn-before': {
    kind: 'string',
    description: `how long ahead she is told of an idle stop, e.g. 1h, 0 for never (idleWarnBefore; "${INHERIT}")`,
  },
  // Where her notices go (docs/admin/notifications-and-idleness.md "Notifications").
  email: {
    kind: 'string',
    description: 'e-mail address her notices are mailed to (smtpUrl); "none" removes it',
  },
  webhook: {
    kind: 'string',
    description:
      'webhook URL her notices are POSTed to (Slack/Mattermost incoming webhooks work); "none" removes it',
  },
};

export const USER_EXCLUSIVE = ['profile', 'gpu', 'no-gpu'];
