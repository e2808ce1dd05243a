import {validateUserName} from '../../src/users/user-name.js';
import type {UserView} from '../../src/users/user-service.js';
import type {Handler} from '../../cli/command-spec.js';
import {userLines} from './render.js';
import {userChanges} from './user-changes.js';

/** `user set NAME`: changes what is given; the rest stays (docs/admin/users-and-limits.md "Users and limits"). */
const set: Handler = async ({args, flags}, context): Promise<UserView> => {
  const name = validateUserName(args.name!);
  const view = await (await context.services().users()).set(name, await userChanges(flags));
  for (const line of userLines(view)) context.out.log(line);
  return view;
};
export default set;
