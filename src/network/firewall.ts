import type {NetworkPolicy} from './network-policy.js';

export interface RuleState {
  family: 4 | 6;
  /** A sandman chain, or a hook's `FROM -i bridge -j CHAIN`. */
  name: string;
  status: 'ok' | 'missing' | 'altered';
  rules: string[];
}

/** The host firewall (implemented with iptables and ip6tables). */
export interface Firewall {
  /** What is there now compared with what the policy asks for. Changes nothing. */
  status(policy: NetworkPolicy): Promise<RuleState[]>;
  /** Makes it so: missing or altered chains are written again, missing hooks added. Idempotent. */
  apply(policy: NetworkPolicy): Promise<RuleState[]>;
  /**
   * Takes away the chains of one setup (its instance ID) and every rule that jumps to them, in both
   * families (`setup --remove`); returns what was (or, with `dryRun`, would be) removed.
   */
  remove(id: string, dryRun: boolean): Promise<string[]>;
}
