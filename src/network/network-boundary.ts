import type {Config} from '../config/config.js';
import type {NetworkClient} from '../runtime/docker/network-client.js';
import {stateUnavailable} from '../core/errors.js';
import {LABELS} from '../core/labels.js';
import type {Locks} from '../state/locks.js';
import type {Firewall, RuleState} from './firewall.js';
import type {NetworkPolicy} from './network-policy.js';

export interface BoundaryStatus {
  enabled: boolean;
  /** Why there are no rules to check (policy off, or no sessions network yet). */
  note?: string;
  policy?: NetworkPolicy;
  rules: RuleState[];
}

/**
 * Keeps the network policy in place without a daemon (docs/admin/network.md): every create
 * applies it before a container starts, every reap restores it (after a reboot or a firewall
 * reload), doctor and `network status` report what is missing.
 */
export class NetworkBoundary {
  constructor(
    private readonly config: Config,
    private readonly docker: NetworkClient,
    private readonly firewall: Firewall,
    private readonly instance: string,
    /** Serialises repairs between sandman processes; the check itself takes no lock. */
    private readonly locks?: Locks,
    /**
     * Sessions may run on other nodes (Swarm mode, chosen in the wiring): their SSH port range is
     * closed to sessions here too, since this node's INPUT rules cannot see those ports.
     */
    private readonly options: {sessionsOnOtherNodes?: boolean} = {},
  ) {}

  async status(): Promise<BoundaryStatus> {
    const policy = await this.#policy();
    if (typeof policy === 'string')
      return {enabled: this.config.networkPolicy === 'on', note: policy, rules: []};
    return {enabled: true, policy, rules: await this.firewall.status(policy)};
  }

  /** Applies the policy; returns the rules that were missing or altered before. */
  async ensure(): Promise<RuleState[]> {
    const policy = await this.#policy();
    if (typeof policy === 'string') return [];
    const broken = (await this.firewall.status(policy)).filter((rule) => rule.status !== 'ok');
    if (broken.length === 0) return [];
    const repair = async () => {
      // Another process may have repaired them while this one waited.
      const still = (await this.firewall.status(policy)).filter((rule) => rule.status !== 'ok');
      if (still.length > 0) await this.firewall.apply(policy);
      return still;
    };
    if (!this.locks) return repair();
    return this.locks.withLock(
      'network',
      this.config.lockTimeout,
      () => stateUnavailable('the network lock was held too long by another sandman'),
      repair,
    );
  }

  /** Takes this setup's rules away (`setup --remove`), under the network lock like a repair. */
  async remove(dryRun: boolean): Promise<string[]> {
    const remove = () => this.firewall.remove(this.instance, dryRun);
    if (!this.locks || dryRun) return remove();
    return this.locks.withLock(
      'network',
      this.config.lockTimeout,
      () => stateUnavailable('the network lock was held too long by another sandman'),
      remove,
    );
  }

  /** The in-session listener's address and port (docs/admin/sessions.md "The in-session command"), when it is on. */
  async #selfService(): Promise<Pick<NetworkPolicy, 'selfService'>> {
    if (this.config.selfServicePort === 0) return {};
    // The network exists (its bridge was found): this only reads its gateway address.
    const [address] = await this.docker.ensureNetwork(this.config.network, {
      [LABELS.instance]: this.instance,
    });
    return address ? {selfService: {address, port: this.config.selfServicePort}} : {};
  }

  async #policy(): Promise<NetworkPolicy | string> {
    if (this.config.networkPolicy === 'off') return 'networkPolicy is off: sessions can reach the host';
    const bridge = await this.docker.networkBridge(this.config.network);
    if (!bridge)
      return `network ${this.config.network} does not exist yet (the first session create makes it)`;
    return {
      bridge,
      hostAllow: this.config.hostAllow,
      egress: this.config.egress,
      id: this.instance,
      ...(this.options.sessionsOnOtherNodes
        ? {sessionPorts: {start: this.config.sshPortStart, end: this.config.sshPortEnd}}
        : await this.#selfService()),
    };
  }
}
