/** `doctor`'s notification lines (docs/admin/notifications-and-idleness.md "Notifications"): only what is configured is checked. */
import type {Config} from '../config/config.js';
import type {Check} from '../setup/doctor.js';
import type {MailSender, WebhookPoster} from './channels.js';

export async function notifyChecks(deps: {
  config: Pick<Config, 'smtpUrl' | 'notifyWebhook' | 'notifyTimeout'>;
  mail?: () => Promise<MailSender>;
  webhooks: WebhookPoster;
}): Promise<Check[]> {
  const {config} = deps;
  const checks: Check[] = [];
  if (config.smtpUrl && deps.mail) {
    const where = hostOf(config.smtpUrl);
    try {
      await (await deps.mail()).verify(config.notifyTimeout);
      const exposed = new URL(config.smtpUrl).password !== '';
      checks.push({
        name: 'smtp',
        status: exposed ? 'warn' : 'ok',
        detail: `${where} answers (EHLO${new URL(config.smtpUrl).username ? ', login' : ''})`,
        hint: exposed
          ? 'smtpUrl holds the password, and the config file and units are world-readable: put it in smtpPasswordFile (mode 0600) and leave it out of the URL'
          : '',
      });
    } catch (error) {
      checks.push({
        name: 'smtp',
        status: 'fail',
        detail: `${where}: ${(error as Error).message}`,
        hint: 'notices are not mailed: check smtpUrl (smtp://host:port or smtps://user:pass@host:465) and that the server accepts this host',
      });
    }
  }
  if (config.notifyWebhook) {
    const where = new URL(config.notifyWebhook).origin;
    try {
      const status = await deps.webhooks.reach(config.notifyWebhook, config.notifyTimeout);
      checks.push({name: 'webhook', status: 'ok', detail: `${where} answers (HTTP ${status})`, hint: ''});
    } catch (error) {
      checks.push({
        name: 'webhook',
        status: 'warn',
        detail: `${where}: ${(error as Error).message}`,
        hint: 'notices to notifyWebhook wait and are retried at each reap: check the URL and that this host reaches it ("sandman notify test USER" sends one)',
      });
    }
  }
  return checks;
}

/** host:port of an SMTP URL, without its user and password. */
function hostOf(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  return `${url.protocol}//${url.host}`;
}
