import {dependencyUnavailable, errnoCode} from '../../core/errors.js';
import type {HostAccount, HostAccounts} from '../host-accounts.js';
import {runProgram} from '../../core/adapters/run-program.js';

/**
 * The host's accounts through getent, so that NSS answers (files, LDAP, SSSD) as it does for
 * login and ls. getent takes many keys at once; a numeric key is looked up as an id.
 */
export const getentHostAccounts: HostAccounts = {
  async holding(ids) {
    if (ids.length === 0) return [];
    const keys = ids.map(String);
    const [users, groups] = await Promise.all([getent('passwd', keys), getent('group', keys)]);
    return [...entries(users, 'user'), ...entries(groups, 'group')];
  },
};

async function getent(database: 'passwd' | 'group', keys: string[]): Promise<string> {
  const result = await runProgram('getent', [database, ...keys], {timeoutMs: 30_000}).catch(
    (error: unknown) => {
      throw dependencyUnavailable(
        errnoCode(error) === 'ENOENT'
          ? "getent not found: sandman asks the host's account database through it (package libc-bin)"
          : `getent ${database}: ${(error as Error).message}`,
        error,
      );
    },
  );
  // 2: some key was not found, which is the answer for a free id.
  if (result.exitCode === 0 || result.exitCode === 2) return result.stdout;
  throw dependencyUnavailable(
    `getent ${database} failed (exit ${result.exitCode}): ${result.stderr.trim() || 'no message'}; ` +
      "sandman cannot tell which uids the host's accounts use",
  );
}

/** passwd and group lines both carry name:password:id:… */
function entries(text: string, kind: HostAccount['kind']): HostAccount[] {
  return text
    .split('\n')
    .filter((line) => line.includes(':'))
    .map((line) => {
      const [name = '', , id = ''] = line.split(':');
      return {kind, name, id: Number(id)};
    });
}
