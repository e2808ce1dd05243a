import type {UserView} from '../../../src/users/user-service.js';
import type {Handler} from '../../../cli/command-spec.js';

/** `user key rm NAME FINGERPRINT`: new sessions no longer accept it (running ones keep what they had). */
const rm: Handler = async ({args}, context): Promise<UserView> => {
  const view = await (await context.services().users()).removeKey(args.name!, args.fingerprint!);
  context.out.log(`Removed key ${args.fingerprint!} of ${args.name!}; ${view.keys.length} left`);
  return view;
};
export default rm;
