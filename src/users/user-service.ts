import {parseByteSize} from '../core/byte-size.js';
import type {AuditLog} from '../audit/audit-log.js';
import type {Clock} from '../core/clock.js';
import {parseGpuHourBudget, SETTINGS, type Config} from '../config/config.js';
import {emailAddress, webhookUrl} from '../config/notify-settings.js';
import {parseDuration} from '../core/duration.js';
import {conflict, invalidInput, notFound} from '../core/errors.js';
import type {StateData, UserGpuDefault, UserKey, UserLimits, UserRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import {validateUserName} from './user-name.js';
import {workspacePath, type Workspaces} from '../homes/workspace.js';
import type {HostAccounts} from './host-accounts.js';
import {chooseUid, refuseKeptUid} from './uids.js';
import {effectiveLimits, NO_QUOTA, type EffectiveLimits} from './user-limits.js';
import type {HomeDisk, HomeQuotas, QuotaChoice} from '../homes/home-quotas.js';
import {quotaFor} from '../homes/quota-for.js';

/** What `user add` and `user set` may change; undefined leaves a field as it is. */
export interface UserChanges {
  /** Public key files' text, each with its name for messages (`user add --ssh-key FILE`). */
  keys?: Array<{text: string; source: string}>;
  /** null removes the user from their group. */
  group?: string | null;
  gpu?: UserGpuDefault | null;
  ttl?: string | null;
  /** The gateway's spawn on connect waits in line when nothing is free. */
  queue?: boolean;
  limits?: {[K in keyof UserLimits]?: UserLimits[K] | null};
  /** Where her notices go (docs/admin/notifications-and-idleness.md "Notifications"); null takes it away. */
  email?: string | null;
  webhook?: string | null;
}

/** A registered user as `user show`/`user ls` and the API show them (public keys only). */
export interface UserView {
  user: string;
  uid: number;
  group: string | null;
  added_at: string;
  keys: UserKey[];
  defaults: {gpu: string | null; ttl: string | null; queue: boolean};
  /** Each effective limit with where it came from (user, group NAME, setting). */
  limits: {
    max_sessions: {value: number; source: string};
    allowed_profiles: {value: string[]; source: string};
    max_ttl_minutes: {value: number; source: string};
    gpu_hour_budget: {value: string | null; source: string};
    /** Bytes the home may hold; null: no quota. */
    quota: {value: number | null; source: string};
    /** docs/admin/notifications-and-idleness.md "GPU idleness": percent; minutes (0: off). */
    idle_gpu_threshold: {value: number; source: string};
    idle_gpu_window_minutes: {value: number; source: string};
    /** Longest `sandman keep` (docs/admin/sessions.md "The in-session command"); 0: not allowed. */
    max_keep_minutes: {value: number; source: string};
    /** Minutes ahead an idle stop is told (docs/admin/notifications-and-idleness.md "Notifications"); 0: not told. */
    idle_warn_before_minutes: {value: number; source: string};
    /** Batch jobs at once (docs/admin/jobs.md). */
    max_jobs: {value: number; source: string};
  };
  /** The home's use and limit and what enforces it, when a quota applies (docs/admin/disk-quotas.md). */
  disk?: HomeDisk;
  sessions: number;
  workspace: string;
  /** Set by `user show` when a budget applies: GPU-hours used and left in its window. */
  gpu_hours?: {used: number; budget: number; left: number; window: string};
  warnings: string[];
  /** Where her notices go (docs/admin/notifications-and-idleness.md "Notifications"). */
  notify: {email: string | null; webhook: string | null};
}

export interface UserServiceDeps {
  config: Config;
  store: StateStore;
  clock: Clock;
  workspaces: Workspaces;
  /** The host's accounts, whose uids and gids homes never get (docs/admin/users-and-limits.md "Uids and host accounts"). */
  hostAccounts: HostAccounts;
  audit?: AuditLog;
  /** GPU-hours used over a window (the usage accounting); loaded only by `user show`. */
  gpuHours?: (user: string, windowMs: number) => Promise<{used: number}>;
  /** The home quota mechanism (docs/admin/disk-quotas.md), asked only when a quota applies. */
  homeQuotas?: () => Promise<{choice: QuotaChoice; quotas?: HomeQuotas}>;
}

/** `sandman user …` (docs/admin/users-and-limits.md "Users and limits"): people as records in the state file. */
export class UserService {
  constructor(private readonly deps: UserServiceDeps) {}

  async add(name: string, changes: UserChanges): Promise<UserView> {
    validateUserName(name);
    const keys = await this.#parseKeys(changes.keys ?? []);
    this.#check(changes);
    const {config, hostAccounts} = this.deps;
    const dir = workspacePath(config.workspaceRoot, name);
    const owner = await this.deps.workspaces.owner(dir);
    const view = await this.deps.store.update(async (state) => {
      const known = state.users[name];
      if (known?.added_at)
        throw conflict(`user ${name} exists already; change them with "sandman user set ${name}"`);
      // A uid kept from before (user rm, sessions without registration) must still be no host account's.
      if (known) await refuseKeptUid(hostAccounts, name, known.uid);
      const uid =
        known?.uid ??
        (await chooseUid(
          {range: config.uidRange, accounts: hostAccounts},
          name,
          Object.values(state.users).map((user) => user.uid),
          owner === undefined ? undefined : {dir, owner},
        ));
      const record: UserRecord = {...known, uid, added_at: this.#now(), keys: []};
      this.#apply(record, changes, keys);
      state.users[name] = record;
      return this.#view(state, name);
    });
    await this.deps.audit?.record({action: 'user-add', session: null, user: name, result: 'ok'});
    return view;
  }

  async set(name: string, changes: UserChanges): Promise<UserView> {
    const keys = await this.#parseKeys(changes.keys ?? []);
    this.#check(changes);
    // A new quota is checked against what the filesystem can enforce before it is kept.
    const before = await this.deps.store.read();
    this.#registered(before, name);
    const next = structuredClone(before.users[name]!);
    this.#apply(next, changes, keys);
    const hadQuota = effectiveLimits(this.deps.config, name, before.users[name]).quota.value !== undefined;
    const quota = effectiveLimits(this.deps.config, name, next).quota;
    // The same check (and words) as a create's: a quota nothing can enforce is exit 6.
    const quotas = await quotaFor(this.deps, quota);
    const view = await this.deps.store.update((state) => {
      const record = this.#registered(state, name);
      this.#apply(record, changes, keys);
      return this.#view(state, name);
    });
    // In place: a running session's home gets the new limit at once, and a quota taken away
    // is lifted (docs/admin/disk-quotas.md).
    const home = workspacePath(this.deps.config.workspaceRoot, name);
    if ((await this.deps.workspaces.owner(home)) !== undefined) {
      if (quotas && quota.value !== undefined) {
        const waits = await quotas.apply(home, next.uid, quota.value);
        if (waits) view.warnings.push(waits);
      } else if (hadQuota && quota.value === undefined)
        await (await this.deps.homeQuotas?.())?.quotas?.lift(home);
    }
    await this.deps.audit?.record({action: 'user-set', session: null, user: name, result: 'ok'});
    return view;
  }

  async show(name: string): Promise<UserView> {
    const state = await this.deps.store.read();
    this.#registered(state, name);
    const view = this.#view(state, name);
    const disk = await this.#disk(name, state);
    if (disk) view.disk = disk;
    const budget = effectiveLimits(this.deps.config, name, state.users[name]).gpuHourBudget.value;
    if (budget && this.deps.gpuHours) {
      const {used} = await this.deps.gpuHours(name, budget.windowMs);
      view.gpu_hours = {
        used,
        budget: budget.hours,
        left: Math.max(0, Math.round((budget.hours - used) * 1e6) / 1e6),
        window: budget.text.split('/')[1]!,
      };
    }
    return view;
  }

  async list(): Promise<UserView[]> {
    const state = await this.deps.store.read();
    const views = Object.keys(state.users)
      .filter((name) => state.users[name]!.added_at)
      .sort()
      .map((name) => this.#view(state, name));
    for (const view of views) {
      const disk = await this.#disk(view.user, state);
      if (disk) view.disk = disk;
    }
    return views;
  }

  /** A user's home use under its quota (`session show`); undefined without one. */
  async disk(name: string): Promise<HomeDisk | undefined> {
    return this.#disk(name, await this.deps.store.read());
  }

  /** The home's use under its quota; undefined without one (or when it cannot be read). */
  async #disk(name: string, state: StateData): Promise<HomeDisk | undefined> {
    const quota = effectiveLimits(this.deps.config, name, state.users[name]).quota;
    if (quota.value === undefined) return undefined;
    const found = await this.deps.homeQuotas?.();
    return found?.quotas?.usage(workspacePath(this.deps.config.workspaceRoot, name)).catch(() => undefined);
  }

  /**
   * Forgets the registration (keys, group, defaults, limits); the uid stays, so the home keeps
   * its owner. Refuses while the user has sessions unless `force` (the caller removes them first).
   */
  async remove(name: string, options: {force: boolean}): Promise<{user: string; sessions: string[]}> {
    const state = await this.deps.store.read();
    this.#registered(state, name);
    const sessions = state.sessions.filter((session) => session.user === name).map((session) => session.id);
    if (sessions.length > 0 && !options.force)
      throw conflict(
        `user ${name} has ${sessions.length} session(s) (${sessions.join(', ')}): remove them first or add --force`,
        {sessions},
      );
    await this.deps.store.update((current) => {
      const record = this.#registered(current, name);
      current.users[name] = {uid: record.uid, ...(record.node ? {node: record.node} : {})};
    });
    await this.deps.audit?.record({action: 'user-rm', session: null, user: name, result: 'ok'});
    return {user: name, sessions};
  }

  async addKeys(name: string, key: {text: string; source: string}): Promise<UserView> {
    return this.set(name, {keys: [key]});
  }

  async removeKey(name: string, fingerprint: string): Promise<UserView> {
    const view = await this.deps.store.update((state) => {
      const record = this.#registered(state, name);
      const before = record.keys?.length ?? 0;
      record.keys = (record.keys ?? []).filter((key) => key.fingerprint !== fingerprint);
      if (record.keys.length === before)
        throw notFound(`user ${name} has no key ${fingerprint} (see "sandman user key ls ${name}")`);
      return this.#view(state, name);
    });
    await this.deps.audit?.record({action: 'user-key-rm', session: null, user: name, result: 'ok'});
    return view;
  }

  #registered(state: StateData, name: string): UserRecord {
    const record = state.users[name];
    if (!record?.added_at) throw notFound(`no user ${JSON.stringify(name)} (see "sandman user ls")`);
    return record;
  }

  /** Everything given is checked before anything is written. */
  #check(changes: UserChanges): void {
    const {limits, ttl, group} = changes;
    if (ttl) parseDuration(ttl, 'TTL');
    if (group && !this.deps.config.groups[group])
      throw invalidInput(
        `no group ${JSON.stringify(group)} in the configuration (declared: ${Object.keys(this.deps.config.groups).join(', ') || 'none'}; see docs/admin/users-and-limits.md "Users and limits")`,
      );
    if (limits?.userMaxTtl) parseDuration(limits.userMaxTtl, '--max-ttl');
    if (limits?.userMaxKeep) SETTINGS.userMaxKeep.parse(limits.userMaxKeep, 'invalid --max-keep');
    if (limits?.gpuHourBudget) parseGpuHourBudget(limits.gpuHourBudget, 'invalid --gpu-hours');
    if (limits?.quota && limits.quota !== NO_QUOTA) parseByteSize(limits.quota, '--quota');
    if (limits?.allowedProfiles) SETTINGS.allowedProfiles.parse(limits.allowedProfiles, 'invalid --profiles');
    if (limits?.userMaxSessions !== undefined && limits.userMaxSessions !== null)
      SETTINGS.userMaxSessions.parse(limits.userMaxSessions, 'invalid --max-sessions');
    if (limits?.idleGpuThreshold !== undefined && limits.idleGpuThreshold !== null)
      SETTINGS.idleGpuThreshold.parse(limits.idleGpuThreshold, 'invalid --idle-gpu-threshold');
    if (limits?.idleGpuWindow)
      SETTINGS.idleGpuWindow.parse(limits.idleGpuWindow, 'invalid --idle-gpu-window');
    if (limits?.idleWarnBefore)
      SETTINGS.idleWarnBefore.parse(limits.idleWarnBefore, 'invalid --idle-warn-before');
    if (changes.email) emailAddress(changes.email, 'invalid --email');
    if (changes.webhook) webhookUrl(changes.webhook, 'invalid --webhook');
    if (limits?.userMaxJobs !== undefined && limits.userMaxJobs !== null)
      SETTINGS.userMaxJobs.parse(limits.userMaxJobs, 'invalid --max-jobs');
  }

  /** sshpk (key parsing, fingerprints) loads only when keys are given: show, ls and create never need it. */
  async #parseKeys(files: Array<{text: string; source: string}>): Promise<UserKey[]> {
    if (files.length === 0) return [];
    const {fingerprintOf, parseAuthorizedKeys} = await import('../ssh/authorized-keys.js');
    return files.flatMap(({text, source}) =>
      parseAuthorizedKeys(text, `key file ${source}`)
        .split('\n')
        .map((line) => ({line, fingerprint: fingerprintOf(line), added_at: this.#now()})),
    );
  }

  #apply(record: UserRecord, changes: UserChanges, keys: UserKey[]): void {
    const known = new Set((record.keys ?? []).map((key) => key.fingerprint));
    record.keys = [...(record.keys ?? []), ...keys.filter((key) => !known.has(key.fingerprint))];
    if (changes.group !== undefined) record.group = changes.group;
    if (changes.email !== undefined) record.email = changes.email;
    if (changes.webhook !== undefined) record.webhook = changes.webhook;
    const defaults = {...record.defaults};
    if (changes.gpu !== undefined) defaults.gpu = changes.gpu ?? undefined;
    if (changes.ttl !== undefined) defaults.ttl = changes.ttl ?? undefined;
    if (changes.queue !== undefined) defaults.queue = changes.queue || undefined;
    record.defaults = JSON.parse(JSON.stringify(defaults)) as UserRecord['defaults'];
    const limits: Record<string, unknown> = {...record.limits};
    for (const [key, value] of Object.entries(changes.limits ?? {}))
      if (value === null) delete limits[key];
      else if (value !== undefined) limits[key] = value;
    record.limits = limits as UserLimits;
  }

  #view(state: StateData, name: string): UserView {
    const record = state.users[name]!;
    const limits: EffectiveLimits = effectiveLimits(this.deps.config, name, record);
    const warnings: string[] = [];
    if (record.group && !this.deps.config.groups[record.group])
      warnings.push(`group ${record.group} is not declared in the configuration: its limits do not apply`);
    if ((record.keys ?? []).length === 0)
      warnings.push('no registered keys: sessions get a generated key pair, as for unregistered users');
    return {
      user: name,
      uid: record.uid,
      group: record.group ?? null,
      added_at: record.added_at!,
      keys: record.keys ?? [],
      defaults: {
        gpu: describeGpuDefault(record.defaults?.gpu),
        ttl: record.defaults?.ttl ?? null,
        queue: record.defaults?.queue ?? false,
      },
      limits: {
        max_sessions: limits.userMaxSessions,
        allowed_profiles: limits.allowedProfiles,
        max_ttl_minutes: {value: limits.userMaxTtl.value / 60_000, source: limits.userMaxTtl.source},
        gpu_hour_budget: {
          value: limits.gpuHourBudget.value?.text ?? null,
          source: limits.gpuHourBudget.source,
        },
        quota: {value: limits.quota.value ?? null, source: limits.quota.source},
        idle_gpu_threshold: limits.idleGpuThreshold,
        idle_gpu_window_minutes: {
          value: limits.idleGpuWindow.value / 60_000,
          source: limits.idleGpuWindow.source,
        },
        max_keep_minutes: {value: limits.userMaxKeep.value / 60_000, source: limits.userMaxKeep.source},
        idle_warn_before_minutes: {
          value: limits.idleWarnBefore.value / 60_000,
          source: limits.idleWarnBefore.source,
        },
        max_jobs: limits.userMaxJobs,
      },
      sessions: state.sessions.filter((session) => session.user === name).length,
      workspace: workspacePath(this.deps.config.workspaceRoot, name),
      warnings,
      notify: {email: record.email ?? null, webhook: record.webhook ?? null},
    };
  }

  #now(): string {
    return this.deps.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }
}

export function describeGpuDefault(gpu: UserGpuDefault | undefined): string | null {
  if (!gpu) return null;
  return gpu.kind === 'profile' ? gpu.profile : gpu.kind === 'none' ? 'none' : 'any';
}
