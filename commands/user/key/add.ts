import type {UserView} from '../../../src/users/user-service.js';
import type {Handler} from '../../../cli/command-spec.js';
import {readKeyFile} from '../../../cli/key-file.js';

/** `user key add NAME FILE`: the user's next sessions accept this key too. */
const add: Handler = async ({args}, context): Promise<UserView> => {
  const view = await (
    await context.services().users()
  ).addKeys(args.name!, await readKeyFile(args.file!, 'key file'));
  for (const key of view.keys)
    context.out.log(`${key.fingerprint}  ${key.line.split(' ').slice(2).join(' ')}`);
  return view;
};
export default add;
