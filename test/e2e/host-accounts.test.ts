import {chown, mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

/**
 * Homes' uids against the host's REAL account database (docs/admin/users-and-limits.md "Uids and host accounts"): the
 * test makes host accounts with useradd/groupadd in a uid range of its own, far from the 20000s
 * the other sandboxes hand out, and removes them afterwards, failed or not.
 */
const FIRST = 47_310;
/** Given through the environment, so that a sandman without the setting runs the test too (and fails it). */
const env = {SANDMAN_UID_RANGE: `${FIRST}-${FIRST + 19}`};
const HOST_USERS = ['sm36carolhost', 'sm36intruder'];
const HOST_GROUPS = ['sm36lab'];

let sandbox: Sandbox;

async function removeHostAccounts(): Promise<void> {
  for (const name of HOST_USERS) await execa('userdel', [name], {reject: false});
  for (const name of [...HOST_GROUPS, ...HOST_USERS]) await execa('groupdel', [name], {reject: false});
}

beforeAll(async () => {
  await removeHostAccounts();
  sandbox = createSandbox({portStart: 36_200, portCount: 10});
});
afterAll(async () => {
  await removeHostAccounts();
  await sandbox.cleanup();
});

interface Check {
  name: string;
  status: string;
  detail: string;
  hint: string;
}

const uidOf = async (user: string) => {
  const added = await sandbox.json<{uid: number}>(['user', 'add', user], {env});
  expect(added.exitCode, JSON.stringify(added.body)).toBe(0);
  return added.body.uid;
};

const hostAccountsCheck = async () =>
  (await sandbox.json<{checks: Check[]}>(['doctor'], {env})).body.checks.find(
    (check) => check.name === 'host accounts',
  );

describe('uids and host accounts', () => {
  it("never hands out a host user's uid or a host group's gid; a kept uid taken afterwards is refused (6) and doctor names it", async () => {
    // A surviving home at the range's first uid (so the next uid is FIRST + 1 with or without the range).
    const seedHome = path.join(sandbox.workspaceRoot, 'seed');
    await mkdir(seedHome, {recursive: true});
    await chown(seedHome, FIRST, FIRST);
    expect(await uidOf('seed')).toBe(FIRST);

    // A host user at the next uid and a host group at the one after: both skipped.
    await execa('useradd', ['-M', '-N', '-u', String(FIRST + 1), 'sm36carolhost']);
    await execa('groupadd', ['-g', String(FIRST + 2), 'sm36lab']);
    const carol = await uidOf('carol');
    expect(carol).toBe(FIRST + 3);
    expect((await execa('getent', ['passwd', String(carol)], {reject: false})).exitCode).toBe(2);

    // carol's home, made by her first session, is not readable by the host user.
    const created = await sandbox.json<{session_id: string}>(['session', 'create', 'carol', '--no-gpu'], {
      env,
    });
    expect(created.exitCode, JSON.stringify(created.body)).toBe(0);
    const home = path.join(sandbox.workspaceRoot, 'carol');
    await writeFile(path.join(home, 'secret'), 'hers\n', {mode: 0o600});
    await chown(path.join(home, 'secret'), carol, carol);
    const host = String(FIRST + 1);
    const peek = await execa(
      'setpriv',
      [`--reuid=${host}`, `--regid=${host}`, '--clear-groups', 'cat', path.join(home, 'secret')],
      {reject: false},
    );
    expect(peek.exitCode).not.toBe(0);
    expect((await sandbox.run(['session', 'rm', 'carol'], {env})).exitCode).toBe(0);
    expect((await hostAccountsCheck())?.status).toBe('ok');

    // Now a host account gets carol's kept uid: her home is not used again until that is fixed.
    await execa('useradd', ['-M', '-N', '-u', String(carol), 'sm36intruder']);
    const refused = await sandbox.run(['session', 'create', 'carol', '--no-gpu'], {env});
    expect(refused.exitCode).toBe(6);
    expect(refused.stderr).toContain(
      `uid ${carol}, which sandman keeps for carol, is host user sm36intruder (uid ${carol})`,
    );
    expect(refused.stderr).toContain('usermod -u NEW sm36intruder');
    expect(await sandbox.containers()).toEqual([]);
    expect((await sandbox.run(['user', 'rm', 'carol'], {env})).exitCode).toBe(0);
    const readd = await sandbox.run(['user', 'add', 'carol'], {env});
    expect(readd.exitCode).toBe(6);
    expect(readd.stderr).toContain('host user sm36intruder');

    expect(await hostAccountsCheck()).toMatchObject({
      status: 'fail',
      detail: `carol's uid ${carol} is host user sm36intruder (uid ${carol})`,
      hint: expect.stringContaining('usermod -u NEW sm36intruder'),
    });

    // Fixed as the message says: the host account moves out of the range, carol is served again.
    await execa('usermod', ['-u', String(FIRST + 100), 'sm36intruder']);
    expect((await hostAccountsCheck())?.status).toBe('ok');
    const again = await sandbox.json<{uid: number}>(['user', 'add', 'carol'], {env});
    expect(again.exitCode, JSON.stringify(again.body)).toBe(0);
    expect(again.body.uid).toBe(carol);
  });
});
