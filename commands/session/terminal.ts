import {invalidInput} from '../../src/core/errors.js';
import {terminalLink} from '../../src/web/terminal-link.js';
import {actor} from '../../src/audit/adapters/jsonl-audit-log.js';
import type {Handler} from '../../cli/command-spec.js';
import {formatTime, relativeTime} from '../../cli/output.js';

/** `session terminal ID|USER`: a one-time browser terminal link (docs/admin/console-and-sign-in.md "In the browser"). */
const terminal: Handler = async ({args, flags}, context) => {
  const config = context.settings();
  if (!config.apiPublicUrl)
    throw invalidInput(
      'set apiPublicUrl to the URL browsers reach the API at (e.g. "sandman setup --api-public-url https://gpu1.example.org:8443"): links are made from it',
    );
  const services = context.services();
  const session = await (await services.sessionQueries()).show(args.session!);
  const link = await terminalLink(
    {access: await services.webAccess(), defaultTtl: config.terminalLinkTtl},
    session,
    {ttl: flags.ttl as string | undefined, publicUrl: config.apiPublicUrl, madeBy: actor()},
  );
  context.out.log(link.url);
  context.out.log(
    `Works once, until ${formatTime(link.expires_at)} (${relativeTime(link.expires_at)}), for session ${link.session_id} only.`,
  );
  return link;
};
export default terminal;
