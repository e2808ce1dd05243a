/**
 * The network boundary of sessions (docs/admin/network.md), as iptables rules: pure, so the
 * rules can be read and tested without a firewall. Traffic from the sessions' bridge to the host
 * itself (any of its addresses, the gateway, other sessions' published ports) is dropped except
 * the ports in hostAllow; link-local addresses (cloud metadata at 169.254.169.254) are dropped;
 * other destinations follow egress.
 */
export type Egress = 'open' | 'none' | string[];

export interface NetworkPolicy {
  /** The Linux bridge of the sessions' Docker network. */
  bridge: string;
  hostAllow: number[];
  egress: Egress;
  /** Names the chains of one sandman setup (its instance ID). */
  id: string;
  /**
   * Swarm mode: the sessions' SSH port range, dropped towards every destination. Other sessions'
   * ports are on other nodes too, where this node's INPUT rules cannot see them.
   */
  sessionPorts?: {start: number; end: number};
  /**
   * The in-session sandman's listener (selfServicePort on the network's gateway address, docs/admin/sessions.md "The in-session command"): sessions may reach it; from anywhere else (the host network, other
   * interfaces, the host itself) it is dropped.
   */
  selfService?: {address: string; port: number};
}

export type Family = 4 | 6;

export interface FirewallPlan {
  /** Chain name → its rules, in `iptables -S` form without the `-A CHAIN` prefix. */
  chains: Record<string, string[]>;
  /** Where the chains are jumped to from: built-in (or Docker's) chain → the jump rule. */
  hooks: Array<{from: string; rule: string}>;
}

export function chainNames(id: string): {input: string; forward: string; self: string} {
  return {
    input: `SANDMAN-IN-${id.slice(0, 8)}`,
    forward: `SANDMAN-FWD-${id.slice(0, 8)}`,
    self: `SANDMAN-SELF-${id.slice(0, 8)}`,
  };
}

const LINK_LOCAL: Record<Family, string> = {4: '169.254.0.0/16', 6: 'fe80::/10'};

/** The rules of one address family; `forwardHook` is DOCKER-USER where Docker made it, else FORWARD. */
export function firewallPlan(policy: NetworkPolicy, family: Family, forwardHook: string): FirewallPlan {
  const {input, forward, self} = chainNames(policy.id);
  const listener = policy.selfService;
  const selfPort =
    listener && familyOf(listener.address) === family
      ? `-d ${listener.address}/${family === 4 ? 32 : 128} -p tcp -m tcp --dport ${listener.port}`
      : undefined;
  const established = '-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN';
  const allowed = policy.hostAllow.flatMap((port) => [
    `-p tcp -m tcp --dport ${port} -j RETURN`,
    `-p udp -m udp --dport ${port} -j RETURN`,
  ]);
  const egress =
    policy.egress === 'open'
      ? ['-j RETURN']
      : policy.egress === 'none'
        ? ['-j DROP']
        : [
            ...policy.egress
              .filter((cidr) => familyOf(cidr) === family)
              .map((cidr) => `-d ${cidr} -j RETURN`),
            '-j DROP',
          ];
  return {
    chains: {
      [input]: [established, ...allowed, ...(selfPort ? [`${selfPort} -j RETURN`] : []), '-j DROP'],
      // Only from the sessions' bridge: every other way in to the listener is dropped.
      ...(selfPort ? {[self]: [`-i ${policy.bridge} -j RETURN`, '-j DROP']} : {}),
      [forward]: [
        established,
        `-d ${LINK_LOCAL[family]} -j DROP`,
        ...(policy.sessionPorts
          ? [`-p tcp -m tcp --dport ${policy.sessionPorts.start}:${policy.sessionPorts.end} -j DROP`]
          : []),
        ...egress,
      ],
    },
    hooks: [
      {from: 'INPUT', rule: `-i ${policy.bridge} -j ${input}`},
      {from: forwardHook, rule: `-i ${policy.bridge} -j ${forward}`},
      ...(selfPort ? [{from: 'INPUT', rule: `${selfPort} -j ${self}`}] : []),
    ],
  };
}

export function familyOf(cidr: string): Family {
  return cidr.includes(':') ? 6 : 4;
}
