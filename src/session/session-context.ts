/**
 * The shapes the session workflows share (requests, results, the one deps type) and the context
 * they all run in. SessionService (session-service.ts) puts the workflows together.
 */
import {type Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import type {HostAccounts} from '../users/host-accounts.js';
import type {ContainerFile, ContainerSpec} from '../runtime/docker/container-client.js';
import type {EngineClient} from '../runtime/docker/engine-client.js';
import {SandmanError} from '../core/errors.js';
import {type GpuAllocator, type GpuChoice} from '../gpu/gpu-allocator.js';
import type {AuditEntry, AuditLog} from '../audit/audit-log.js';
import {type KeyStore, type SessionFiles} from '../ssh/key-store.js';
import type {HostCredentials, HostIdentity} from '../ssh/host-identity.js';
import {LABELS} from '../core/labels.js';
import type {Locks} from '../state/locks.js';
import type {Processes} from '../host/processes.js';
import {type PortProbe} from '../network/ports.js';
import {authorizedKeysUntil} from '../ssh/ssh-certificates.js';
import type {SshProbe} from '../ssh/ssh-probe.js';
import type {StateDir} from '../state/state-dir.js';
import {type QueuedRequest, type SessionRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import type {Signals} from '../core/termination.js';
import type {Warn} from '../core/warn.js';
import {type Workspaces} from '../homes/workspace.js';
import {loginBanner} from './banner.js';
import {CONTAINER_PATHS, hostKeyFiles, withGatewayKey, type HostKeyPlace} from './container-paths.js';
import {localAddress} from './ssh-client.js';
import {type SessionView} from './session-view.js';
import {sshEndpoint, type SessionRuntime, type SshEndpoint} from '../runtime/session-runtime.js';
import type {HomeQuotas, QuotaChoice} from '../homes/home-quotas.js';
import {relayAuthorizedKey, type GatewayKeys} from '../gateway/gateway-keys.js';
import {newSelfSecret, selfTokenHash, selfUrl} from '../self/self-credential.js';
import type {JobLogStore} from '../jobs/job-log-store.js';

/** The capabilities sshd needs to start, drop privileges and chroot; everything else is dropped. */
export const SSHD_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'SETUID',
  'SETGID',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
  'NET_BIND_SERVICE',
];

export interface CreateRequest {
  user: string;
  /** TTL text as typed (`90m`, `2h`, `45`); undefined means the configured default. */
  ttl?: string;
  gpu: GpuChoice;
  /** Public keys from `--ssh-key`, with a name for messages; undefined means "make a key pair". */
  authorizedKeys?: {text: string; source: string};
  password: boolean;
  env: string[];
  wait: boolean;
  /** Swarm mode: the node for the user's first session (their home is made there). */
  node?: string;
  /** Nothing free: wait in line instead of exit 5 (docs/admin/users-and-limits.md "Users and limits": the queue). */
  queue?: boolean;
  /** The queued request this create starts (its ID becomes the session's). */
  fromQueue?: string;
  /**
   * Only when the user has no session and no queued request (the gateway's spawn on connect):
   * otherwise exit 4, decided under the state lock.
   */
  onlyIfNone?: boolean;
}

export interface ResumeOutcome {
  outcome: 'started' | 'moved' | 'ended';
  detail: string;
}

/** What one reference given to `session rm` came to when it could not be removed. */
export interface RemoveError {
  reference: string;
  error: SandmanError;
}

export interface RemoveResult {
  removed: SessionView[];
  /** In the order the references were given: unknown ones first, then failed removals. */
  errors: RemoveError[];
  /** Queued requests (docs/admin/users-and-limits.md "Users and limits") that left the line. */
  cancelled: string[];
}

export interface CreatedSession extends SessionView {
  ssh_private_key: string | null;
  /** Printed once, never stored. */
  ssh_password?: string;
  gpu_note?: string;
  /** Share of a GPU the session holds (usage accounting); null without a GPU. */
  gpu_fraction?: number | null;
}

export interface SessionServiceDeps {
  config: Config;
  stateDir: StateDir;
  store: StateStore;
  docker: EngineClient;
  gpus: GpuAllocator;
  keys: KeyStore;
  hostIdentity: HostIdentity;
  /**
   * The home quota mechanism under workspaceRoot (docs/admin/disk-quotas.md), asked for only when a
   * quota applies; absent: no quotas.
   */
  homeQuotas?: () => Promise<{choice: QuotaChoice; quotas?: HomeQuotas}>;
  /** The SSH gateway's keys (docs/admin/gateway.md "The SSH gateway"); without them sessions carry no gateway key. */
  gatewayKeys?: GatewayKeys;
  /** Puts the network policy in place (docs/admin/network.md); checked before every start. */
  networkBoundary: {ensure(): Promise<unknown>};
  /** Where sessions run: this host's engine, or the nodes of a Swarm (docs/admin/swarm.md). */
  runtime: SessionRuntime;
  workspaces: Workspaces;
  /** The host's accounts, whose uids and gids homes never get (docs/admin/users-and-limits.md "Uids and host accounts"). */
  hostAccounts: HostAccounts;
  locks: Locks;
  clock: Clock;
  portProbe: PortProbe;
  sshProbe: SshProbe;
  signals: Signals;
  processes: Processes;
  sshHost: () => Promise<string>;
  warn: Warn;
  /** Progress reporting for long steps (spinner text on a terminal). */
  progress?: (step: string) => void;
  audit?: AuditLog;
  /** Who runs this (the audit log's actor): what `last_extended_by` records. */
  actor?: string;
  /** Runs after every change to sessions (rewrites the metrics file when one is configured). */
  afterChange?: () => Promise<void>;
  /**
   * A user's GPU-hours over a window, as `usage` counts them (docs/admin/users-and-limits.md "Users and limits"); read only
   * when a gpuHourBudget applies to the user, so creates without budgets never read the audit log.
   */
  gpuHours?: (user: string, windowMs: number) => Promise<{used: number; oldestLeavesAt: number | null}>;
  /** Where batch jobs' output stays, in the user's home (docs/admin/jobs.md); absent: not kept. */
  jobLogs?: JobLogStore;
  /** Crash-test hook between steps (docs/development/contributing.md); a no-op in normal use. */
  faultPoint?: (
    name:
      | 'reserved'
      | 'container-created'
      | 'container-started'
      | 'before-commit'
      | 'committing'
      | 'new-container-started'
      // A batch job's collection (docs/admin/jobs.md): its end recorded, its container not yet removed.
      | 'job-ended',
  ) => Promise<void>;
  /** Tells a queued request's user it started (docs/admin/notifications-and-idleness.md "Notifications"); never fails the start. */
  notifyStarted?: (entry: QueuedRequest) => Promise<void>;
  /** Delivers the outbox's notices (a job's end: src/jobs/job-notices.ts) once the lock is released. */
  deliverNotices?: () => Promise<unknown>;
}

/**
 * What the session workflows share (create, remove, resume, extend): the outside systems, the
 * audit line with the metrics refresh, record patches, and the container each session runs in.
 */
export class SessionContext {
  readonly instance: string;

  constructor(readonly deps: SessionServiceDeps) {
    this.instance = deps.stateDir.instance;
  }

  /** Audit line plus metrics refresh; neither may fail the action itself. */
  async recorded(entry: AuditEntry): Promise<void> {
    await this.deps.audit?.record(entry);
    await this.deps.afterChange?.().catch((error: unknown) => {
      this.deps.warn(`cannot update metrics: ${(error as Error).message}`);
    });
  }

  async patch(id: string, changes: Partial<SessionRecord>): Promise<SessionRecord> {
    return this.deps.store.update((state) => {
      const record = state.sessions.find((session) => session.id === id);
      if (!record) {
        // The reaper released the reservation (it looked abandoned): do not resurrect it.
        throw new SandmanError('FAILURE', `session ${id} was removed while it was being created`);
      }
      Object.assign(record, changes);
      return {...record};
    });
  }

  containerSpec(
    record: SessionRecord,
    authorizedKeys: string,
    userEnv: Map<string, string>,
    password: boolean,
    /** Absent: the container's image has them already (a committed container of an earlier sandman's session). */
    hostKey?: HostKeyPlace,
    /** The session files directory to mount; absent: the files are inside the container. */
    sessionFilesDir?: string,
  ): ContainerSpec {
    const {config} = this.deps;
    const env = [
      `SANDMAN_USER=${record.user}`,
      `SANDMAN_UID=${record.uid}`,
      `SANDMAN_SESSION_ID=${record.id}`,
      `SANDMAN_AUTHORIZED_KEYS=${this.sessionFiles(record, authorizedKeys).authorizedKeys}`,
      `SANDMAN_PASSWORD_AUTH=${password ? 'yes' : 'no'}`,
      `SANDMAN_EXPIRES_AT=${record.expires_at}`,
      `SANDMAN_BANNER=${loginBanner(record)}`,
      `SANDMAN_USER_ENV=${[...userEnv.keys()].join(',')}`,
      ...[...userEnv].map(([name, value]) => `${name}=${value}`),
    ];
    return {
      name: record.container_name,
      image: config.image,
      hostname: `sandman-${record.user}`,
      labels: {
        [LABELS.session]: record.id,
        [LABELS.user]: record.user,
        [LABELS.expiresAt]: record.expires_at,
        [LABELS.instance]: this.instance,
      },
      env,
      network: config.network,
      bindAddress: config.bindAddress,
      hostPort: record.published === false ? undefined : record.ssh_port,
      mount: {source: record.workspace, target: `/home/${record.user}`},
      ...(hostKey && 'dir' in hostKey
        ? {keyMount: {source: hostKey.dir, target: CONTAINER_PATHS.hostKeyDir}}
        : {}),
      ...(sessionFilesDir
        ? {filesMount: {source: sessionFilesDir, target: CONTAINER_PATHS.sessionFilesDir}}
        : {}),
      files: hostKey && 'credentials' in hostKey ? hostKeyFiles(hostKey.credentials) : [],
      capAdd: SSHD_CAPABILITIES,
      pidsLimit: config.pids,
      memoryBytes: config.memory,
      diskBytes: config.containerDiskLimit,
      nanoCpus: config.cpus === undefined ? undefined : Math.round(config.cpus * 1e9),
      gpuUuid: record.gpu_uuid ?? undefined,
    };
  }

  /**
   * The gateway's authorized_keys line for the network's addresses (`gateways`, from
   * ensureNetwork); empty when this setup has no gateway keys.
   */
  async gatewayKey(gateways: readonly string[]): Promise<string> {
    const keys = this.deps.gatewayKeys;
    if (!keys) return '';
    return relayAuthorizedKey((await keys.relayKey()).publicKey, gateways);
  }

  /**
   * Where the session's sshd answers from this host: its published port, or (directPorts off) its
   * own address on the sessions network; Swarm mode: its node's port.
   */
  sshEndpoint(record: SessionRecord): Promise<SshEndpoint> {
    return sshEndpoint(this.deps.runtime.endpoints, record);
  }

  /**
   * What in a container says when its session ends (docs/admin/gateway.md): the login banner, the
   * authorized_keys' expiry-time and the host certificate's validity. Each is written now where the
   * container reads it from the host (the session's host key and session files directories); what
   * the container keeps inside (a session an earlier sandman or image made, Swarm mode) is returned
   * as files: extend puts them into the running container (sshd re-reads on SIGHUP), start into the
   * stopped one before it starts.
   */
  async renewExpiry(session: SessionRecord): Promise<ContainerFile[]> {
    const files: ContainerFile[] = [];
    const contents = this.sessionFiles(session, session.authorized_keys ?? '');
    const {hostFiles} = this.deps.runtime;
    // Its files directory (an image that reads one): rewritten here, nothing goes into the container.
    if (hostFiles && session.authorized_keys && (await hostFiles.sessionFilesDir(session.id)))
      await hostFiles.writeSessionFiles(session.id, contents);
    else {
      files.push({path: CONTAINER_PATHS.motd, content: contents.motd, mode: 0o644});
      if (session.authorized_keys)
        files.push({
          path: CONTAINER_PATHS.authorizedKeys(session.user),
          content: contents.authorizedKeys,
          mode: 0o644,
        });
    }
    if (session.host_public_key) {
      const certificate = await this.deps.hostIdentity.renew({
        hostPublicKey: session.host_public_key,
        principals: this.principals(session),
        validBefore: new Date(session.expires_at),
      });
      if (hostFiles && (await hostFiles.hostKeyDir(session.id)))
        await hostFiles.renewHostCertificate(session.id, certificate);
      else files.push({path: CONTAINER_PATHS.hostCertificate, content: certificate, mode: 0o644});
    }
    return files;
  }

  /**
   * What the session's sshd reads at each login: its keys (the gateway's line included), each
   * allowed until the session's expiry, and the login banner.
   */
  sessionFiles(record: SessionRecord, authorizedKeys: string): SessionFiles {
    return {
      authorizedKeys: authorizedKeysUntil(withGatewayKey(authorizedKeys, record), record.expires_at),
      motd: loginBanner(record) + '\n',
    };
  }

  /**
   * Puts a session's new host key and certificate where its container will read them: its host key
   * directory, or (Swarm mode) files for the service.
   */
  async placeHostKey(record: SessionRecord, credentials: HostCredentials): Promise<HostKeyPlace> {
    const {hostFiles} = this.deps.runtime;
    if (!hostFiles) return {credentials};
    return {dir: await hostFiles.writeHostKey(record.id, credentials)};
  }

  /**
   * A session made before the gateway (docs/admin/upgrades-and-backups.md "Upgrading") gets the gateway's key, kept in its
   * record, at its next extend or start; one the engine cannot say the network's addresses for
   * keeps going without it.
   */
  async withGatewayKey(session: SessionRecord): Promise<SessionRecord> {
    // Only a session this host reaches on the sessions network checks the relay key's source.
    if (
      session.gateway_key !== undefined ||
      !session.authorized_keys ||
      !this.deps.runtime.endpoints.onNetwork
    )
      return session;
    const gateways = await this.deps.docker
      .ensureNetwork(this.deps.config.network, {[LABELS.instance]: this.instance})
      .catch(() => []);
    const gatewayKey = await this.gatewayKey(gateways);
    return gatewayKey ? this.patch(session.id, {gateway_key: gatewayKey}) : session;
  }

  /**
   * A new in-session credential (docs/admin/sessions.md "The in-session command"): its secret and the listener's URL into
   * the session files directory, its hash into the record. Nothing without a listener
   * (selfServicePort 0) or a files directory on this host (Swarm mode, an image without one). A
   * failure warns: the session works, its `sandman` command does not.
   */
  async issueSelfAccess(session: SessionRecord): Promise<void> {
    const {config, keys, runtime, docker} = this.deps;
    try {
      if (config.selfServicePort === 0 || !runtime.hostFiles) return;
      if (!(await keys.sessionFilesDir(session.id))) return;
      const [gateway] = await docker.ensureNetwork(config.network, {[LABELS.instance]: this.instance});
      if (!gateway) return;
      const secret = newSelfSecret();
      await keys.writeSelfAccess(session.id, {
        secret,
        url: selfUrl(gateway, config.selfServicePort, session.id),
        uid: session.uid,
      });
      await this.patch(session.id, {self_token_hash: selfTokenHash(secret)});
    } catch (error) {
      this.deps.warn(
        `session ${session.id}: its in-session sandman command has no credential (${(error as Error).message})`,
      );
    }
  }

  /** The names a user connects with: the host name printed, and this host's own address for `sandman ssh`. */
  principals(session: Pick<SessionRecord, 'ssh_host'>): string[] {
    return [...new Set([session.ssh_host, localAddress(this.deps.config.bindAddress)])];
  }

  issueHostCredentials(record: SessionRecord, principals?: string[]): Promise<HostCredentials> {
    return this.deps.hostIdentity.issue({
      sessionId: record.id,
      principals: principals ?? this.principals(record),
      validBefore: new Date(record.expires_at),
    });
  }
}
