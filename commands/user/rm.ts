import type {Handler} from '../../cli/command-spec.js';

/**
 * `user rm NAME`: forgets the registration (keys, group, defaults, limits); never the home, and
 * the uid stays with it. With sessions it refuses (exit 4) unless --force, which removes them.
 */
const rm: Handler = async ({args, flags}, context): Promise<{user: string; sessions_removed: string[]}> => {
  const users = await context.services().users();
  const force = flags.force === true;
  const {user, sessions} = await users.remove(args.name!, {force: false}).catch(async (error: unknown) => {
    if (!force) throw error;
    // --force: the sessions go first (homes kept), then the registration.
    const held = ((error as {details?: {sessions?: string[]}}).details?.sessions ?? []) as string[];
    const {errors} = await (await context.services().sessionService()).remove(held);
    if (errors[0]) throw errors[0].error;
    return users.remove(args.name!, {force: true});
  });
  context.out.log(
    `Removed user ${user}${sessions.length ? ` and session(s) ${sessions.join(', ')}` : ''}; home kept`,
  );
  return {user, sessions_removed: sessions};
};
export default rm;
