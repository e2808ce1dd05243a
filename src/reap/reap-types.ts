/** The reaper's report and what it is given (docs/admin/reaper.md "The reaper"). */
import type {ContainerActivity} from './activity.js';
import type {AuditLog} from '../audit/audit-log.js';
import type {Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import type {ContainerClient, InContainerClient} from '../runtime/docker/container-client.js';
import type {HomeDisk} from '../homes/home-quotas.js';
import type {Locks} from '../state/locks.js';
import type {NetworkBoundary} from '../network/network-boundary.js';
import type {Processes} from '../host/processes.js';
import type {SessionService} from '../session/session-service.js';
import type {SessionRecord} from '../state/state-data.js';
import type {SshConnections} from '../ssh/ssh-connections.js';
import type {StateStore} from '../state/state-store.js';
import type {Warn} from '../core/warn.js';
import type {ReapReason} from './reap-plan.js';
import type {DcgmExporter} from '../gpu/dcgm-exporter.js';
import type {NvidiaSmi} from '../gpu/nvidia-smi.js';

export interface ReapItem {
  action:
    | 'remove-session'
    | 'remove-container'
    | 'warn'
    | 'resume-session'
    | 'restore-firewall'
    | 'report'
    | 'end-queued'
    | 'start-queued'
    | 'stop-session'
    | 'tidy-stopped'
    // Batch jobs (docs/admin/jobs.md); session_id is then the job's ID.
    | 'collect-job'
    | 'stop-job'
    | 'end-job'
    | 'forget-job';
  reason:
    | ReapReason
    | 'expiring'
    | 'firewall'
    | 'not-running'
    | 'queue-timeout'
    | 'capacity'
    | 'disk'
    | 'ended'
    | 'timeout'
    | 'left-queue'
    | 'gone';
  session_id: string | null;
  user: string | null;
  container: string | null;
  /** done, would (dry run), skipped (changed meanwhile), failed */
  result: 'done' | 'would' | 'skipped' | 'failed';
  error?: string;
  /** What resuming did: started again, moved to another device, or ended (and why). */
  detail?: string;
}

export interface ReapReport {
  dry_run: boolean;
  /** Set when another reap held the reap lock: this run did nothing. */
  skipped?: string;
  items: ReapItem[];
  failed: number;
  duration_ms: number;
  /** Notices recorded and delivered after the run (docs/admin/notifications-and-idleness.md "Notifications"); absent when none. */
  notices?: NoticeSummary;
}

/** What a run's notices came to: failed deliveries are retried at the next run, and fail no reap. */
export interface NoticeSummary {
  recorded: number;
  delivered: number;
  failed: number;
  errors: string[];
}

/** Notices of what a reap saw and did (src/notify/reap-notices.ts): recorded, then delivered. */
export interface ReapNotices {
  /** A run's: what it did and what is coming, recorded, then delivered with what earlier runs left. */
  afterReap(items: ReapItem[], now: number): Promise<NoticeSummary>;
  /** What one removal did, recorded only (the SSH gateway's, which must not wait for deliveries). */
  recordItems(items: ReapItem[], now: number): Promise<number>;
}

export interface ReaperDeps {
  /** Homes under a quota (docs/admin/disk-quotas.md); absent: no disk warnings. */
  users?: {disk(user: string): Promise<HomeDisk | undefined>};
  config: Config;
  store: StateStore;
  docker: ContainerClient;
  /**
   * Reaches into session containers (the terminals' warnings); absent where they may be on other
   * nodes, out of this host's reach (docs/admin/swarm.md).
   */
  inContainer?: Pick<InContainerClient, 'exec' | 'putFiles'>;
  /** Loaded only when something has to be torn down. */
  sessions: () => Promise<SessionService>;
  clock: Clock;
  locks: Locks;
  processes: Processes;
  sshConnections: SshConnections;
  activity: ContainerActivity;
  /** Host PIDs of GPU compute processes (nvidia-smi); none on a host without it. */
  gpuProcesses: () => Promise<number[]>;
  /** nvidia-smi for the GPU rule's samples (docs/admin/notifications-and-idleness.md "GPU idleness"); absent: no GPU rule. */
  smi?: () => Promise<Pick<NvidiaSmi, 'utilization' | 'list' | 'instances'>>;
  /** dcgm-exporter (dcgmExporterUrl), for MIG devices' utilisation; absent: none configured. */
  dcgm?: DcgmExporter;
  warn: Warn;
  /** This setup's instance label (StateDir.instance). */
  instance: string;
  /** Restores the network policy after a reboot or a firewall reload (docs/admin/network.md). */
  networkBoundary: Pick<NetworkBoundary, 'ensure' | 'status'>;
  audit?: AuditLog;
  afterChange?: () => Promise<void>;
  progress?: (text: string) => void;
  /** Notifications (docs/admin/notifications-and-idleness.md "Notifications"); absent: none are sent. */
  notices?: ReapNotices;
}

/** A report line about one session. */
export function sessionItem(
  action: ReapItem['action'],
  reason: ReapItem['reason'],
  session: SessionRecord,
  dryRun: boolean,
): ReapItem {
  return {
    action,
    reason,
    session_id: session.id,
    user: session.user,
    container: session.container_name,
    result: dryRun ? 'would' : 'done',
  };
}
