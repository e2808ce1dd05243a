// Notifications: e-mail over SMTP, webhooks, and when they are sent (docs/admin/notifications-and-idleness.md "Notifications").
import {duration, durationOrZero, fail, filePath, text, type Parser, type Settings} from './setting.js';

/** A URL of one of these schemes, as given (its password, if any, stays in it). */
const urlOf =
  (schemes: string[], example: string): Parser<string> =>
  (raw, where) => {
    const value = text(raw, where);
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(where, `must be a URL such as ${example}`);
    }
    if (!schemes.includes(url.protocol.replace(/:$/, '')) || !url.hostname)
      fail(where, `must be a ${schemes.join(' or ')} URL such as ${example}`);
    return value;
  };

/** A webhook: an http(s) URL. */
export const webhookUrl = urlOf(['http', 'https'], 'https://hooks.slack.com/services/T000/B000/XXXX');

/** An e-mail address as people write it: one @, no spaces. */
export const emailAddress: Parser<string> = (raw, where) => {
  const value = text(raw, where).trim();
  if (!/^[^\s@<>,;"]+@[^\s@<>,;"]+$/.test(value))
    fail(where, 'must be an e-mail address such as alice@example.org');
  return value;
};

export const NOTIFY_SETTINGS = {
  smtpUrl: {
    description:
      'the SMTP server notices are mailed through: smtp://host:port (STARTTLS when offered) or smtps://user:pass@host:465',
    defaultText: 'none (no e-mail)',
    parse: urlOf(['smtp', 'smtps'], 'smtp://mail.example.org:25'),
  },
  smtpPasswordFile: {
    description:
      "file (mode 0600) holding the SMTP password for smtpUrl's user: the config file is world-readable",
    defaultText: 'none',
    parse: filePath,
  },
  notifyFrom: {
    description: 'the From address of notice e-mails',
    defaultText: "sandman@ this host's FQDN",
    parse: emailAddress,
  },
  notifyWebhook: {
    description: "the admin's webhook: every notice is POSTed to it as JSON (Slack/Mattermost-compatible)",
    defaultText: 'none',
    parse: webhookUrl,
  },
  idleWarnBefore: {
    description:
      "reap tells a session's user this long before it is stopped for idleness (0: not at all; a group or the user may set their own)",
    parse: durationOrZero,
    default: '30m',
  },
  notifyTimeout: {
    description:
      'longest wait for one delivery (an SMTP send, a webhook POST); a failed one is retried at the next reap',
    parse: duration,
    default: '10s',
  },
} satisfies Settings;
