import {readFile} from 'node:fs/promises';

import {createTransport} from 'nodemailer';

import type {Mail, MailSender} from '../channels.js';

/**
 * Mail through an SMTP server with nodemailer (docs/admin/notifications-and-idleness.md "Notifications"): smtp://host:port
 * (STARTTLS when the server offers it) or smtps://user:pass@host:465 (TLS from the start). One
 * connection per mail: a reap sends a few at most.
 */
export class NodemailerMailSender implements MailSender {
  constructor(
    private readonly smtpUrl: string,
    /** smtpPasswordFile: the password, kept out of the world-readable config file. */
    private readonly passwordFile?: string,
  ) {}

  async send(mail: Mail, timeoutMs: number): Promise<void> {
    await this.#within(timeoutMs, (transport) => transport.sendMail(mail));
  }

  async verify(timeoutMs: number): Promise<void> {
    await this.#within(timeoutMs, (transport) => transport.verify());
  }

  /** Runs `work` on a fresh transport, closed afterwards; a server that stalls fails at `timeoutMs`. */
  async #within<T>(
    timeoutMs: number,
    work: (transport: ReturnType<typeof this.transport>) => Promise<T>,
  ): Promise<T> {
    const password = this.passwordFile
      ? (
          await readFile(this.passwordFile, 'utf8').catch((error: unknown) => {
            throw new Error(`cannot read smtpPasswordFile ${this.passwordFile}: ${(error as Error).message}`);
          })
        ).trim()
      : undefined;
    const transport = this.transport(timeoutMs, password);
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        work(transport),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer from the SMTP server within ${timeoutMs / 1000}s`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      transport.close();
    }
  }

  transport(timeoutMs: number, password?: string) {
    const url = new URL(this.smtpUrl);
    const secure = url.protocol === 'smtps:';
    return createTransport({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : secure ? 465 : 25,
      secure,
      ...(url.username
        ? {auth: {user: decodeURIComponent(url.username), pass: password ?? decodeURIComponent(url.password)}}
        : {}),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
  }
}
