import type {UserView} from '../../src/users/user-service.js';
import type {Handler} from '../../cli/command-spec.js';
import {loadChalk, renderTable} from '../../cli/output.js';
import {formatBytes} from '../../src/core/byte-size.js';
import {diskText} from '../../src/homes/disk-text.js';

/** `user ls`: the registered users, one row each. */
const ls: Handler = async (_input, context): Promise<UserView[]> => {
  const users = await (await context.services().users()).list();
  if (!context.out.json)
    context.out.log(
      await renderTable(
        ['USER', 'UID', 'GROUP', 'KEYS', 'SESSIONS', 'GPU DEFAULT', 'MAX SESSIONS', 'BUDGET', 'DISK'],
        users.map((user) => [
          user.user,
          user.uid,
          user.group ?? '-',
          user.keys.length,
          user.sessions,
          user.defaults.gpu ?? '-',
          user.limits.max_sessions.value,
          user.limits.gpu_hour_budget.value ?? '-',
          user.disk
            ? diskText(user.disk)
            : user.limits.quota.value === null
              ? '-'
              : `${formatBytes(user.limits.quota.value)} quota`,
        ]),
        await loadChalk(context.out.colour),
      ),
    );
  return users;
};
export default ls;
