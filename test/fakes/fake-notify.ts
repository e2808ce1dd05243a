import type {Mail, MailSender, WebhookPoster} from '../../src/notify/channels.js';

/** An SMTP server in memory: what was sent, and whether it answers. */
export class FakeMailSender implements MailSender {
  readonly sent: Mail[] = [];
  /** Set: every send fails with it. */
  failure?: string;
  async send(mail: Mail): Promise<void> {
    if (this.failure) throw new Error(this.failure);
    this.sent.push(mail);
  }
  async verify(): Promise<void> {
    if (this.failure) throw new Error(this.failure);
  }
}

/** Webhook receivers in memory: what each URL got; a URL in `failing` answers with that error. */
export class FakeWebhookPoster implements WebhookPoster {
  readonly posts: Array<{url: string; body: Record<string, unknown>}> = [];
  readonly failing = new Map<string, string>();
  async post(url: string, body: unknown): Promise<void> {
    const failure = this.failing.get(url);
    if (failure) throw new Error(failure);
    this.posts.push({url, body: body as Record<string, unknown>});
  }
  async reach(url: string): Promise<number> {
    const failure = this.failing.get(url);
    if (failure) throw new Error(failure);
    return 200;
  }
}
