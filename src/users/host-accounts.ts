/** A user or group of the host's own account database (passwd and group, LDAP/SSSD included). */
export interface HostAccount {
  kind: 'user' | 'group';
  name: string;
  /** Its uid (a user) or gid (a group). */
  id: number;
}

/**
 * The host's account database, asked per id: sites with LDAP often cannot enumerate it, and a
 * home's uid (and gid, the same number) must be no host user's uid and no host group's gid.
 */
export interface HostAccounts {
  /** Every host user whose uid, and every host group whose gid, is one of `ids`. */
  holding(ids: number[]): Promise<HostAccount[]>;
}

/** `host user carolhost (uid 20003)`, as messages name an account. */
export function describeAccount(account: HostAccount): string {
  return `host ${account.kind} ${account.name} (${account.kind === 'user' ? 'uid' : 'gid'} ${account.id})`;
}
