import type {UserKey} from '../../../src/state/state-data.js';
import type {Handler} from '../../../cli/command-spec.js';
import {formatTime} from '../../../cli/output.js';

/** `user key ls NAME`: fingerprints (as ssh-keygen -lf prints them), types, comments. */
const ls: Handler = async ({args}, context): Promise<UserKey[]> => {
  const view = await (await context.services().users()).show(args.name!);
  for (const key of view.keys)
    context.out.log(
      `${key.fingerprint}  ${key.line.split(' ')[0]}  ${key.line.split(' ').slice(2).join(' ') || '-'}  added ${formatTime(key.added_at)}`,
    );
  return view.keys;
};
export default ls;
