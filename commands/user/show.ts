import type {UserView} from '../../src/users/user-service.js';
import type {Handler} from '../../cli/command-spec.js';
import {userLines} from './render.js';

/** `user show NAME`: keys, group, effective limits and where each comes from, GPU-hours in the window. */
const show: Handler = async ({args}, context): Promise<UserView> => {
  const view = await (await context.services().users()).show(args.name!);
  for (const line of userLines(view)) context.out.log(line);
  return view;
};
export default show;
