import {actor} from '../../src/audit/adapters/jsonl-audit-log.js';
import {createUserLoginLink} from '../../src/web/user-login-link.js';
import type {Handler} from '../../cli/command-spec.js';
import {formatTime, relativeTime} from '../../cli/output.js';

/** `user login-link NAME`: a one-time console login as that user (docs/admin/console-and-sign-in.md "User logins"). */
const loginLink: Handler = async ({args, flags}, context) => {
  const config = context.settings();
  const services = context.services();
  const link = await createUserLoginLink(
    {access: await services.webAccess(), store: await services.store(), defaultTtl: config.terminalLinkTtl},
    {user: args.name!, ttl: flags.ttl as string | undefined, publicUrl: config.apiPublicUrl, madeBy: actor()},
  );
  context.out.log(link.url);
  context.out.log(
    `Works once, until ${formatTime(link.expires_at)} (${relativeTime(link.expires_at)}), and logs its opener in as ${args.name!}.`,
  );
  return {user: args.name!, ...link};
};
export default loginLink;
