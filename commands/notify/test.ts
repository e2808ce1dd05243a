import {SandmanError} from '../../src/core/errors.js';
import type {TestResult} from '../../src/notify/notifier.js';
import {validateUserName} from '../../src/users/user-name.js';
import type {Handler} from '../../cli/command-spec.js';

/** `notify test USER` (docs/admin/notifications-and-idleness.md "Notifications"): each channel's answer, one line each. */
const test: Handler = async ({args}, context): Promise<{user: string; channels: TestResult[]}> => {
  const user = validateUserName(args.user!);
  const channels = await (await context.services().notifier()).test(user);
  const report = {user, channels};
  if (channels.length === 0)
    throw new SandmanError(
      'FAILURE',
      `no channel is configured for ${user}: set smtpUrl and "user set ${user} --email ADDR", "user set ${user} --webhook URL", or notifyWebhook`,
      {details: report},
    );
  for (const channel of channels)
    context.out.log(
      `${channel.channel.padEnd(13)} ${channel.target.padEnd(32)} ${channel.result}${channel.error ? `: ${channel.error}` : ''}`,
    );
  const failed = channels.filter((channel) => channel.result === 'failed');
  if (failed.length > 0)
    throw new SandmanError('FAILURE', `${failed.length} of ${channels.length} channel(s) failed`, {
      details: report,
    });
  return report;
};
export default test;
