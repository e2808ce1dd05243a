import type {HostAccount, HostAccounts} from '../../src/users/host-accounts.js';

/** The host's passwd and group databases in memory; `asked` counts the questions (getent runs). */
export class FakeHostAccounts implements HostAccounts {
  readonly accounts: HostAccount[] = [];
  asked = 0;

  add(kind: HostAccount['kind'], name: string, id: number): void {
    this.accounts.push({kind, name, id});
  }

  async holding(ids: number[]): Promise<HostAccount[]> {
    this.asked++;
    const wanted = new Set(ids);
    return this.accounts.filter((account) => wanted.has(account.id));
  }
}
