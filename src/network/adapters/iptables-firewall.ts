import type {Firewall, RuleState} from '../firewall.js';
import {chainNames, firewallPlan, type Family, type NetworkPolicy} from '../network-policy.js';
import {dependencyUnavailable} from '../../core/errors.js';
import {runProgram, type ProgramResult} from '../../core/adapters/run-program.js';

type Run = (family: Family, args: string[]) => Promise<ProgramResult>;

/** iptables and ip6tables (see runProgram); `-w` waits for the xtables lock other tools hold. */
export class IptablesFirewall implements Firewall {
  constructor(private readonly run: Run = runIptables) {}

  async status(policy: NetworkPolicy): Promise<RuleState[]> {
    return (await Promise.all(([4, 6] as const).map((family) => this.#family(policy, family, false)))).flat();
  }

  async apply(policy: NetworkPolicy): Promise<RuleState[]> {
    return (await Promise.all(([4, 6] as const).map((family) => this.#family(policy, family, true)))).flat();
  }

  async remove(id: string, dryRun: boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const family of [4, 6] as const) {
      const table = await this.#table(family);
      const chains = Object.values(chainNames(id)).filter((chain) => table.has(chain));
      // The jumps first: iptables refuses to delete a chain something still refers to.
      for (const [from, rules] of table)
        for (const rule of rules)
          if (chains.some((chain) => new RegExp(`(^| )-j ${chain}( |$)`).test(rule))) {
            if (!dryRun) await this.#must(family, ['-D', from, ...rule.split(' ')]);
            removed.push(`IPv${family} ${from} ${rule}`);
          }
      for (const chain of chains) {
        if (!dryRun) {
          await this.#must(family, ['-F', chain]);
          await this.#must(family, ['-X', chain]);
        }
        removed.push(`IPv${family} ${chain}`);
      }
    }
    return removed;
  }

  async #family(policy: NetworkPolicy, family: Family, fix: boolean): Promise<RuleState[]> {
    // One read of the whole filter table: the check runs on every create and every reap.
    const table = await this.#table(family);
    const plan = firewallPlan(policy, family, table.has('DOCKER-USER') ? 'DOCKER-USER' : 'FORWARD');
    const states: RuleState[] = [];
    for (const [chain, rules] of Object.entries(plan.chains)) {
      const current = table.get(chain);
      const status = current === undefined ? 'missing' : same(current, rules) ? 'ok' : 'altered';
      if (fix && status !== 'ok') {
        await this.#must(family, current === undefined ? ['-N', chain] : ['-F', chain]);
        for (const rule of rules) await this.#must(family, ['-A', chain, ...rule.split(' ')]);
      }
      states.push({family, name: chain, status: fix ? 'ok' : status, rules});
    }
    for (const hook of plan.hooks) {
      const present = (table.get(hook.from) ?? []).some((rule) => same([rule], [hook.rule]));
      // First in the chain: Docker's own rules further down must not accept the traffic first.
      if (fix && !present) await this.#must(family, ['-I', hook.from, '1', ...hook.rule.split(' ')]);
      states.push({
        family,
        name: `${hook.from} ${hook.rule}`,
        status: fix || present ? 'ok' : 'missing',
        rules: [hook.rule],
      });
    }
    return states;
  }

  /** Every chain of the filter table with its rules (`-A` lines, prefix stripped). */
  async #table(family: Family): Promise<Map<string, string[]>> {
    const result = await this.run(family, ['-S']);
    if (result.exitCode !== 0) {
      throw dependencyUnavailable(
        `cannot read the firewall with ${family === 4 ? 'iptables' : 'ip6tables'} -S: ${result.stderr.trim()} ` +
          '(sandman needs root and iptables for its network policy; networkPolicy=off turns it off)',
      );
    }
    const table = new Map<string, string[]>();
    for (const line of result.stdout.split('\n')) {
      const chain = /^-[NP] (\S+)/.exec(line)?.[1];
      if (chain && !table.has(chain)) table.set(chain, []);
      const rule = /^-A (\S+) (.*)$/.exec(line);
      if (rule) table.set(rule[1]!, [...(table.get(rule[1]!) ?? []), rule[2]!]);
    }
    return table;
  }

  async #must(family: Family, args: string[]): Promise<void> {
    const result = await this.run(family, args);
    if (result.exitCode !== 0) {
      throw dependencyUnavailable(
        `${family === 4 ? 'iptables' : 'ip6tables'} ${args.join(' ')} failed: ${result.stderr.trim()} ` +
          '(sandman needs root and iptables for its network policy; networkPolicy=off turns it off)',
      );
    }
  }
}

/** iptables -S prints what it was given in its own canonical form; compare word by word. */
function same(current: string[], wanted: string[]): boolean {
  const norm = (rules: string[]) => rules.map((rule) => rule.trim().split(/\s+/).join(' '));
  return JSON.stringify(norm(current)) === JSON.stringify(norm(wanted));
}

async function runIptables(family: Family, args: string[]) {
  try {
    return await runProgram(family === 4 ? 'iptables' : 'ip6tables', ['-w', '5', ...args]);
  } catch (error) {
    return {exitCode: 127, stdout: '', stderr: (error as Error).message};
  }
}
