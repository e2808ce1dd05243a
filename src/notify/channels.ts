/** The outside systems notices go through (docs/admin/notifications-and-idleness.md "Notifications"); adapters in ./adapters/. */

export interface Mail {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** An SMTP server (smtpUrl). */
export interface MailSender {
  /** Sends one mail; rejects after `timeoutMs` at most. */
  send(mail: Mail, timeoutMs: number): Promise<void>;
  /** Connects and greets (EHLO, and logs in when the URL has a user): what doctor checks. */
  verify(timeoutMs: number): Promise<void>;
}

/** HTTP webhooks. */
export interface WebhookPoster {
  /** POSTs `body` as JSON; rejects on an answer other than 2xx, or after `timeoutMs`. */
  post(url: string, body: unknown, timeoutMs: number): Promise<void>;
  /** Whether the URL's server answers at all (doctor): its HTTP status; rejects when none came. */
  reach(url: string, timeoutMs: number): Promise<number>;
}
