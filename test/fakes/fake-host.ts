import type {ContainerActivity} from '../../src/reap/activity.js';
import type {Clock} from '../../src/core/clock.js';
import {SandmanError} from '../../src/core/errors.js';
import type {GatewayKeys} from '../../src/gateway/gateway-keys.js';
import type {HostFiles} from '../../src/host/host-files.js';
import type {HostCredentials, HostIdentity} from '../../src/ssh/host-identity.js';
import {generateKeyPair, type KeyPair} from '../../src/ssh/ssh-keys.js';
import type {Firewall, RuleState} from '../../src/network/firewall.js';
import {chainNames, firewallPlan, type NetworkPolicy} from '../../src/network/network-policy.js';
import type {KeyStore, SessionFiles} from '../../src/ssh/key-store.js';
import type {LockName, Locks} from '../../src/state/locks.js';
import type {Processes} from '../../src/host/processes.js';
import type {SshConnections} from '../../src/ssh/ssh-connections.js';
import type {SshProbe} from '../../src/ssh/ssh-probe.js';
import type {Signals} from '../../src/core/termination.js';
import type {Workspaces} from '../../src/homes/workspace.js';

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  constructor(public time = Date.parse('2026-11-24T12:00:00Z')) {}
  now(): Date {
    return new Date(this.time);
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Locks in memory: the same exclusion the lock files give between processes. */
export class FakeLocks implements Locks {
  readonly held = new Set<LockName>();
  async withLock<T>(
    name: LockName,
    _waitMs: number,
    onTimeout: () => Error,
    work: () => Promise<T>,
  ): Promise<T> {
    const release = await this.tryLock(name);
    if (!release) throw onTimeout();
    try {
      return await work();
    } finally {
      await release();
    }
  }
  async tryLock(name: LockName): Promise<(() => Promise<void>) | undefined> {
    if (this.held.has(name)) return undefined;
    this.held.add(name);
    return async () => {
      this.held.delete(name);
    };
  }
}

export class FakeKeyStore implements KeyStore {
  readonly files = new Map<string, string>();
  failWrite = false;
  pathFor(sessionId: string): string {
    return `/fake/keys/${sessionId}`;
  }
  async write(sessionId: string, privateKey: string): Promise<string> {
    if (this.failWrite) throw new SandmanError('FAILURE', 'cannot write private key: disk full (fake)');
    this.files.set(sessionId, privateKey);
    return this.pathFor(sessionId);
  }
  async read(sessionId: string): Promise<string | null> {
    return this.files.get(sessionId) ?? null;
  }
  /** Host key directories: session → its key and certificate. */
  readonly hostKeys = new Map<string, {privateKey: string; certificate: string}>();
  async writeHostKey(sessionId: string, host: {privateKey: string; certificate: string}): Promise<string> {
    this.hostKeys.set(sessionId, {privateKey: host.privateKey, certificate: host.certificate});
    return `${this.pathFor(sessionId)}.host`;
  }
  async hostKeyDir(sessionId: string): Promise<string | undefined> {
    return this.hostKeys.has(sessionId) ? `${this.pathFor(sessionId)}.host` : undefined;
  }
  async renewHostCertificate(sessionId: string, certificate: string): Promise<void> {
    const host = this.hostKeys.get(sessionId);
    if (!host) throw new SandmanError('FAILURE', `session ${sessionId} has no host key directory (fake)`);
    host.certificate = certificate;
  }
  /** Session files directories: session → its authorized_keys and banner. */
  readonly sessionFiles = new Map<string, SessionFiles>();
  async writeSessionFiles(sessionId: string, files: SessionFiles): Promise<string> {
    this.sessionFiles.set(sessionId, {...files});
    return `${this.pathFor(sessionId)}.session`;
  }
  /** In-session credentials as written: session → secret, URL and owner. */
  readonly selfAccess = new Map<string, {secret: string; url: string; uid: number}>();
  async writeSelfAccess(
    sessionId: string,
    access: {secret: string; url: string; uid: number},
  ): Promise<void> {
    if (!this.sessionFiles.has(sessionId))
      throw new SandmanError('FAILURE', `session ${sessionId} has no session files directory (fake)`);
    this.selfAccess.set(sessionId, {...access});
  }
  async sessionFilesDir(sessionId: string): Promise<string | undefined> {
    return this.sessionFiles.has(sessionId) ? `${this.pathFor(sessionId)}.session` : undefined;
  }
  async removeSessionFiles(sessionId: string): Promise<void> {
    this.sessionFiles.delete(sessionId);
  }
  async remove(sessionId: string): Promise<void> {
    this.files.delete(sessionId);
    this.hostKeys.delete(sessionId);
    this.sessionFiles.delete(sessionId);
  }
}

export class FakeWorkspaces implements Workspaces {
  readonly dirs = new Map<string, number>();
  failEnsure = false;
  async owner(dir: string): Promise<number | undefined> {
    return this.dirs.get(dir);
  }
  async ensure(dir: string, uid: number): Promise<void> {
    if (this.failEnsure) throw new SandmanError('FAILURE', 'cannot create workspace (fake)');
    if (!this.dirs.has(dir)) this.dirs.set(dir, uid);
  }
}

/** Records the cleanup registered for termination; `deliver()` acts as the signal arriving. */
export class FakeSignals implements Signals {
  readonly handlers = new Set<() => Promise<void>>();
  onTermination(cleanup: () => Promise<void>): () => void {
    this.handlers.add(cleanup);
    return () => this.handlers.delete(cleanup);
  }
  async deliver(): Promise<void> {
    for (const handler of [...this.handlers]) await handler();
  }
}

export class FakeSshProbe implements SshProbe {
  answers = true;
  async waitForBanner(options: {check?: () => Promise<void>}): Promise<boolean> {
    await options.check?.();
    return this.answers;
  }
}

export class FakeProcesses implements Processes {
  readonly pid = 1000;
  readonly alivePids = new Set<number>([1000]);
  alive(pid: number): boolean {
    return this.alivePids.has(pid);
  }
}

export class FakeSshConnections implements SshConnections {
  connections = 0;
  async count(): Promise<number> {
    return this.connections;
  }
}

/** A host CA that signs nothing real: certificates name the key, principals and expiry. */
export class FakeHostIdentity implements HostIdentity {
  readonly issued: string[] = [];
  async caPublicKey(): Promise<string> {
    return 'ssh-ed25519 AAAAfakeca sandman-host-ca';
  }
  async issue(request: {
    sessionId: string;
    principals: string[];
    validBefore: Date;
  }): Promise<HostCredentials> {
    const publicKey = `ssh-ed25519 AAAAhost${request.sessionId}`;
    this.issued.push(request.sessionId);
    return {
      privateKey: `private-${request.sessionId}`,
      publicKey,
      certificate: await this.renew({...request, hostPublicKey: publicKey}),
    };
  }
  async renew(request: {hostPublicKey: string; principals: string[]; validBefore: Date}): Promise<string> {
    return `cert ${request.hostPublicKey} ${request.principals.join(',')} until ${request.validBefore.toISOString()}`;
  }
}

/** A firewall in memory: the chains and hooks as `iptables -S` would list them. */
export class FakeFirewall implements Firewall {
  readonly chains = new Map<string, string[]>();
  readonly hooks = new Set<string>();
  applied = 0;

  async status(policy: NetworkPolicy): Promise<RuleState[]> {
    return this.#compare(policy);
  }
  async apply(policy: NetworkPolicy): Promise<RuleState[]> {
    this.applied++;
    for (const family of [4, 6] as const) {
      const plan = firewallPlan(policy, family, family === 4 ? 'DOCKER-USER' : 'FORWARD');
      for (const [chain, rules] of Object.entries(plan.chains))
        this.chains.set(`${family} ${chain}`, [...rules]);
      for (const hook of plan.hooks) this.hooks.add(`${family} ${hook.from} ${hook.rule}`);
    }
    return this.#compare(policy);
  }
  async remove(id: string, dryRun: boolean): Promise<string[]> {
    const names = Object.values(chainNames(id));
    const ours = (entry: string) =>
      names.some((name) => entry.endsWith(` ${name}`) || entry.endsWith(`-j ${name}`));
    const removed = [...this.hooks].filter(ours).concat([...this.chains.keys()].filter(ours));
    if (!dryRun) {
      for (const hook of removed) this.hooks.delete(hook);
      for (const chain of removed) this.chains.delete(chain);
    }
    return removed;
  }
  #compare(policy: NetworkPolicy): RuleState[] {
    return ([4, 6] as const).flatMap((family) => {
      const plan = firewallPlan(policy, family, family === 4 ? 'DOCKER-USER' : 'FORWARD');
      const chains = Object.entries(plan.chains).map(([chain, rules]): RuleState => {
        const current = this.chains.get(`${family} ${chain}`);
        const status = !current
          ? 'missing'
          : JSON.stringify(current) === JSON.stringify(rules)
            ? 'ok'
            : 'altered';
        return {family, name: chain, status, rules};
      });
      const hooks = plan.hooks.map((hook): RuleState => ({
        family,
        name: `${hook.from} ${hook.rule}`,
        status: this.hooks.has(`${family} ${hook.from} ${hook.rule}`) ? 'ok' : 'missing',
        rules: [hook.rule],
      }));
      return [...chains, ...hooks];
    });
  }
}

/** CPU seconds and GPU process placement as a test sets them (container ID → value). */
export class FakeActivity implements ContainerActivity {
  readonly cpu = new Map<number, number>();
  readonly gpuProcessContainer = new Map<number, string>();
  async cpuSeconds(pid: number): Promise<number | undefined> {
    return this.cpu.get(pid) ?? 0;
  }
  async inContainer(pid: number, containerId: string): Promise<boolean> {
    return this.gpuProcessContainer.get(pid) === containerId;
  }
}

/** The gateway's keys: real ed25519 pairs, made once per test run (the gateway's tests sign with them). */
export class FakeGatewayKeys implements GatewayKeys {
  static #host?: KeyPair;
  static #relay?: KeyPair;

  async hostKey(): Promise<KeyPair> {
    return (FakeGatewayKeys.#host ??= generateKeyPair('sandman-gateway-host'));
  }

  async relayKey(): Promise<KeyPair> {
    return (FakeGatewayKeys.#relay ??= generateKeyPair('sandman-gateway'));
  }
}

/** Host files (path → text and mode) and systemd's view of units, in memory. */
export class FakeHostFiles implements HostFiles {
  readonly files = new Map<string, {text: string; mode: number}>();
  readonly units = new Map<string, {enabled: string; active: string}>();
  async exists(file: string): Promise<boolean> {
    return this.files.has(file);
  }
  async read(file: string): Promise<string | undefined> {
    return this.files.get(file)?.text;
  }
  async mode(file: string): Promise<number | undefined> {
    return this.files.get(file)?.mode;
  }
  async unitState(unit: string): Promise<{enabled: string; active: string}> {
    return this.units.get(unit) ?? {enabled: 'not-found', active: 'inactive'};
  }
}
