import {validateUserName} from '../../src/users/user-name.js';
import type {UserView} from '../../src/users/user-service.js';
import type {Handler} from '../../cli/command-spec.js';
import {userLines} from './render.js';
import {userChanges} from './user-changes.js';

/** `user add NAME`: registers a person: keys, group, defaults, limits (docs/admin/users-and-limits.md "Users and limits"). */
const add: Handler = async ({args, flags}, context): Promise<UserView> => {
  const name = validateUserName(args.name!);
  const view = await (await context.services().users()).add(name, await userChanges(flags));
  for (const line of userLines(view)) context.out.log(line);
  return view;
};
export default add;
