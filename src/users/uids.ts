import type {IdRange} from '../config/config.js';
import {capacity, dependencyUnavailable} from '../core/errors.js';
import {describeAccount, type HostAccount, type HostAccounts} from './host-accounts.js';

/** Ids per question to the account database: one getent run each for passwd and group. */
const BATCH = 64;

export interface UidDeps {
  range: IdRange;
  accounts: HostAccounts;
}

/** The host accounts holding any of `ids`, asked a batch at a time. */
export async function hostAccountsHolding(accounts: HostAccounts, ids: number[]): Promise<HostAccount[]> {
  const found: HostAccount[] = [];
  for (let at = 0; at < ids.length; at += BATCH)
    found.push(...(await accounts.holding(ids.slice(at, at + BATCH))));
  return found;
}

/**
 * The uid for a user who has none yet. A surviving workspace's owner is kept, so the files stay
 * the user's (never a host account's: that account owns them, the home is refused). Otherwise the
 * lowest uid in uidRange that no sandman user holds and that is no host user's uid or group's gid
 * (the home's gid is the same number).
 */
export async function chooseUid(
  {range, accounts}: UidDeps,
  user: string,
  taken: Iterable<number>,
  workspace?: {dir: string; owner: number},
): Promise<number> {
  const used = new Set(taken);
  if (workspace) {
    await refuseHostHeld(
      accounts,
      user,
      workspace.owner,
      `workspace ${workspace.dir} is owned by uid ${workspace.owner}, which`,
    );
    if (workspace.owner >= range.first && workspace.owner <= range.last && !used.has(workspace.owner))
      return workspace.owner;
  }
  for (let start = range.first; start <= range.last; start += BATCH) {
    const candidates: number[] = [];
    for (let uid = start; uid < start + BATCH && uid <= range.last; uid++)
      if (!used.has(uid)) candidates.push(uid);
    if (candidates.length === 0) continue;
    const held = new Set((await accounts.holding(candidates)).map((account) => account.id));
    const free = candidates.find((uid) => !held.has(uid));
    if (free !== undefined) return free;
  }
  throw capacity(
    `no free uid for ${user} in uidRange ${range.first}-${range.last}: sandman users hold ${used.size}, ` +
      "the host's accounts the rest (widen uidRange)",
  );
}

/** A uid sandman keeps for a user is refused (exit 6) once a host account has it. */
export async function refuseKeptUid(accounts: HostAccounts, user: string, uid: number): Promise<void> {
  await refuseHostHeld(accounts, user, uid, `uid ${uid}, which sandman keeps for ${user},`);
}

async function refuseHostHeld(
  accounts: HostAccounts,
  user: string,
  uid: number,
  what: string,
): Promise<void> {
  const held = await accounts.holding([uid]);
  if (held.length === 0) return;
  throw dependencyUnavailable(
    `${what} is ${held.map(describeAccount).join(' and ')} in the host's account database: ` +
      `that account could read and write ${user}'s home, so sandman will not use it. ` +
      `${clashFix(held)}, then try again (docs/admin/users-and-limits.md "Uids and host accounts")`,
  );
}

/** What an admin does about host accounts that hold a sandman user's uid. */
export function clashFix(held: HostAccount[]): string {
  const commands = held.map((account) =>
    account.kind === 'user' ? `usermod -u NEW ${account.name}` : `groupmod -g NEW ${account.name}`,
  );
  return `Give the host account another id outside uidRange (${[...new Set(commands)].join(', ')}) or remove it`;
}
