import type {SessionView} from '../../src/session/session-view.js';
import type {Handler} from '../../cli/command-spec.js';
import {formatTime, relativeTime} from '../../cli/output.js';

const extend: Handler = async ({args, flags}, context): Promise<SessionView> => {
  const session = await (
    await context.services().sessionService()
  ).extend(args.session!, flags.ttl as string);
  context.out.log(
    `Session ${session.session_id} for ${session.ssh_user} now expires ${formatTime(session.expires_at)} ` +
      `(${relativeTime(session.expires_at)})`,
  );
  return session;
};
export default extend;
