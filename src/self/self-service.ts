/**
 * The in-session `sandman` (docs/admin/sessions.md "The in-session command"): what one
 * authenticated session's user may do to that session (status, extend, keep, stop, web), within
 * her own limits, each an audit line whose actor is `USER (session ID)` (the wiring's). The
 * answer is the text (or JSON) her client prints and the exit code it exits with.
 */
import {sessionGpuVerdict, type GpuIdleVerdict} from '../gpu/gpu-idle-verdict.js';
import type {AuditLog} from '../audit/audit-log.js';
import type {Clock} from '../core/clock.js';
import {isoSeconds} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {formatDuration} from '../core/duration.js';
import {conflict, isSandmanError, SandmanError} from '../core/errors.js';
import {diskText} from '../homes/disk-text.js';
import type {HomeDisk} from '../homes/home-quotas.js';
import {gpuDescription} from '../session/banner.js';
import {keepSession} from '../session/keep-session.js';
import type {QueuedView} from '../session/session-queue.js';
import type {SessionView} from '../session/session-view.js';
import type {SessionRecord} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import {effectiveLimits} from '../users/user-limits.js';
import {parseSelfArgs, SELF_HELP, type SelfCommand} from './self-commands.js';
import {runSelfJob, type SelfJobs} from './self-jobs.js';

export interface SelfServiceDeps {
  config: Config;
  store: StateStore;
  clock: Clock;
  /** The session workflows (extend, stop), wired with this caller's actor. */
  sessions: () => Promise<{
    extend(reference: string, ttl: string | {until: number}): Promise<SessionView>;
    stop(reference: string): Promise<unknown>;
  }>;
  queued: (user: string) => Promise<QueuedView[]>;
  gpuHours?: (user: string, windowMs: number) => Promise<{used: number}>;
  disk?: (user: string) => Promise<HomeDisk | undefined>;
  /** A one-time console login link for the user (src/web/user-login-link.ts). */
  loginLink: (user: string) => Promise<{url: string; expires_at: string}>;
  audit?: AuditLog;
  /** Her batch jobs (`sandman job …`), wired with this caller's actor; absent: not offered. */
  jobs?: () => Promise<SelfJobs>;
}

export interface SelfAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** What runs once the answer has reached the client (stop: the connection ends with it). */
  after?: () => Promise<void>;
}

/** `sandman status --json` inside a session. */
export interface SelfStatus {
  session_id: string;
  user: string;
  status: string;
  gpu: {uuid: string | null; profile: string | null};
  expires_at: string;
  time_left_seconds: number;
  idle: {
    verdict: 'active' | 'idle' | 'kept' | 'not tracked';
    last_active_at: string | null;
    last_active_reason: string | null;
    idle_timeout_seconds: number | null;
    /** When the reaper stops it if nothing happens (null: not tracked). */
    idle_stop_after: string | null;
  };
  keep_until: string | null;
  /** The GPU utilisation rule's verdict and numbers (docs/admin/notifications-and-idleness.md); null without a GPU. */
  gpu_idle: GpuIdleVerdict | null;
  gpu_hours: {used: number; budget: number; left: number; window: string} | null;
  queued: Array<{id: string; position: number; waiting_for: string}>;
  disk: {used: number; limit: number | null; text: string} | null;
  last_extended_by: string | null;
}

export class SelfService {
  constructor(private readonly deps: SelfServiceDeps) {}

  /** Runs the client's argv for its session; every failure is an answer with its exit code. */
  async run(sessionId: string, argv: readonly string[]): Promise<SelfAnswer> {
    // A job's command (after --) may hold its own --json.
    const json = (argv.includes('--') ? argv.slice(0, argv.indexOf('--')) : argv).includes('--json');
    let command: SelfCommand | undefined;
    try {
      command = parseSelfArgs(argv, this.deps.clock.now().getTime()).command;
      return await this.#run(sessionId, command, json);
    } catch (error) {
      const failure = isSandmanError(error)
        ? error
        : new SandmanError('FAILURE', (error as Error).message, {cause: error});
      // extend and stop audit their own refusals.
      if (command?.name !== 'extend' && command?.name !== 'stop')
        await this.#audit(sessionId, command?.name ?? 'unknown', 'failed', failure.message);
      const body = {error: {code: failure.kind, message: failure.message, exit_code: failure.exitCode}};
      return json
        ? {exitCode: failure.exitCode, stdout: JSON.stringify(body, null, 2) + '\n', stderr: ''}
        : {exitCode: failure.exitCode, stdout: '', stderr: `sandman: error: ${failure.message}\n`};
    }
  }

  async #run(id: string, command: SelfCommand, json: boolean): Promise<SelfAnswer> {
    const say = (text: string, value: unknown): SelfAnswer => ({
      exitCode: 0,
      stdout: json ? JSON.stringify(value, null, 2) + '\n' : text + '\n',
      stderr: '',
    });
    const record = await this.#session(id);
    switch (command.name) {
      case 'help':
        return {exitCode: 0, stdout: SELF_HELP, stderr: ''};
      case 'status': {
        const status = await this.status(record);
        await this.#audit(id, 'status', 'ok');
        return say(statusText(status), status);
      }
      case 'extend': {
        const sessions = await this.deps.sessions();
        const view = await sessions.extend(id, 'ttl' in command ? command.ttl : {until: command.until});
        const status = await this.status(await this.#session(id));
        return say(
          `Session ${id} now expires ${when(view.expires_at)} (in ${formatDuration(status.time_left_seconds * 1000)}).`,
          status,
        );
      }
      case 'keep': {
        const kept = await keepSession(this.deps, id, command.milliseconds);
        await this.deps.audit?.record({
          action: 'keep',
          session: id,
          user: kept.user,
          result: 'ok',
          reason: `until ${kept.keep_until}`,
        });
        const expiresFirst = Date.parse(kept.expires_at) < Date.parse(kept.keep_until!);
        return say(
          `No stop for idleness until ${when(kept.keep_until!)}.` +
            (expiresFirst ? ` The session still ends at its expiry, ${when(kept.expires_at)}.` : ''),
          await this.status(kept),
        );
      }
      case 'stop': {
        if (record.status !== 'running')
          throw conflict(`session ${id} is ${record.status}; only a running session can be stopped`);
        const text =
          `Stopping session ${id}: its GPU goes back, the container and your home are kept; ` +
          'this connection ends now. Start it again with ssh through the gateway (or ask your admin).';
        return {
          ...say(text, {session_id: id, status: 'stopping'}),
          after: async () => void (await (await this.deps.sessions()).stop(id)),
        };
      }
      case 'job': {
        if (!this.deps.jobs) throw new SandmanError('INVALID_INPUT', 'batch jobs are not offered here');
        const done = await runSelfJob({...this.deps, jobs: this.deps.jobs}, record.user, command);
        // The job workflows audit submit, cancel and the end; the rest is a self line.
        if (command.action !== 'submit' && command.action !== 'cancel')
          await this.#audit(id, `job ${command.action}`, 'ok');
        const answer = say(done.text ?? '', done.value);
        return {...answer, stdout: json || done.text ? answer.stdout : '', exitCode: done.exitCode};
      }
      case 'web': {
        const link = await this.deps.loginLink(record.user);
        await this.#audit(id, 'web', 'ok');
        return say(
          `Open this link once, before ${when(link.expires_at)}, to log in to the sandman console:\n${link.url}`,
          link,
        );
      }
    }
  }

  /** What `sandman status` says about the session. */
  async status(session: SessionRecord): Promise<SelfStatus> {
    const {config, clock} = this.deps;
    const now = clock.now().getTime();
    const state = await this.deps.store.read();
    const limits = effectiveLimits(config, session.user, state.users[session.user]);
    const budget = limits.gpuHourBudget.value;
    const used =
      budget && this.deps.gpuHours ? (await this.deps.gpuHours(session.user, budget.windowMs)).used : 0;
    const disk = await this.deps.disk?.(session.user).catch(() => undefined);
    const queued = await this.deps.queued(session.user);
    return {
      session_id: session.id,
      user: session.user,
      status: session.status,
      gpu: {uuid: session.gpu_uuid, profile: session.mig_profile},
      expires_at: session.expires_at,
      time_left_seconds: Math.max(0, Math.round((Date.parse(session.expires_at) - now) / 1000)),
      idle: idleOf(session, config.idleTimeout, now),
      keep_until: session.keep_until && Date.parse(session.keep_until) > now ? session.keep_until : null,
      gpu_idle: session.gpu_uuid ? sessionGpuVerdict(config, state, session, now) : null,
      gpu_hours: budget
        ? {
            used: round2(used),
            budget: budget.hours,
            left: round2(Math.max(0, budget.hours - used)),
            window: formatDuration(budget.windowMs),
          }
        : null,
      queued: queued.map((entry) => ({
        id: entry.session_id,
        position: entry.queue_position,
        waiting_for: entry.waiting_for,
      })),
      disk: disk ? {used: disk.used, limit: disk.limit, text: diskText(disk)} : null,
      last_extended_by: session.last_extended_by ?? null,
    };
  }

  async #session(id: string): Promise<SessionRecord> {
    const session = (await this.deps.store.read()).sessions.find((candidate) => candidate.id === id);
    if (!session) throw new SandmanError('NOT_FOUND', `no session ${id}`);
    return session;
  }

  async #audit(id: string, what: string, result: 'ok' | 'failed', why?: string): Promise<void> {
    const user = (await this.deps.store.read()).sessions.find((session) => session.id === id)?.user ?? null;
    await this.deps.audit?.record({
      action: 'self',
      session: id,
      user,
      result,
      reason: why ? `${what}: ${why}` : what,
    });
  }
}

/** The idle verdict, from the reaper's own facts (last_active_at and why; idleTimeout; keep). */
function idleOf(session: SessionRecord, idleTimeout: number | undefined, now: number): SelfStatus['idle'] {
  const base = {
    last_active_at: session.last_active_at ?? null,
    last_active_reason: session.last_active_reason ?? null,
  };
  const keep = session.keep_until ? Date.parse(session.keep_until) : 0;
  if (idleTimeout === undefined)
    return {
      ...base,
      verdict: keep > now ? 'kept' : 'not tracked',
      idle_timeout_seconds: null,
      idle_stop_after: null,
    };
  const since = Date.parse(session.last_active_at ?? session.created_at);
  const stopAfter = Math.max(since + idleTimeout, keep);
  return {
    ...base,
    verdict: keep > now ? 'kept' : now - since >= idleTimeout ? 'idle' : 'active',
    idle_timeout_seconds: idleTimeout / 1000,
    idle_stop_after: isoSeconds(new Date(stopAfter)),
  };
}

function statusText(status: SelfStatus): string {
  const idle = status.idle;
  const seen = idle.last_active_at
    ? `last active ${when(idle.last_active_at)} (${idle.last_active_reason})`
    : 'not seen active since it started';
  const idleLine =
    idle.idle_timeout_seconds === null
      ? `not tracked (no idleTimeout on this host)${status.keep_until ? `; kept until ${when(status.keep_until)}` : ''}`
      : idle.verdict === 'kept'
        ? `kept: no idle stop until ${when(status.keep_until!)}; ${seen}`
        : `${idle.verdict}: ${seen}; stopped when idle for ${formatDuration(idle.idle_timeout_seconds! * 1000)}` +
          ` (not before ${when(idle.idle_stop_after!)})`;
  const gpu = status.gpu.uuid
    ? gpuDescription({gpu_uuid: status.gpu.uuid, mig_profile: status.gpu.profile})
    : 'none';
  const rows: Array<[string, string]> = [
    ['Session', `${status.session_id} (${status.user}), ${status.status}`],
    ['GPU', gpu],
    ['Expires', `${when(status.expires_at)} (${formatDuration(status.time_left_seconds * 1000)} left)`],
    ['Idle', idleLine],
    ...(status.gpu_idle ? [['GPU idle', status.gpu_idle.text] as [string, string]] : []),
    [
      'GPU-hours',
      status.gpu_hours
        ? `${status.gpu_hours.used} of ${status.gpu_hours.budget} used in the last ${status.gpu_hours.window}, ${status.gpu_hours.left} left`
        : 'no budget',
    ],
    [
      'Queued',
      status.queued.length === 0
        ? 'nothing'
        : status.queued
            .map((entry) => `${entry.id} (#${entry.position} for ${entry.waiting_for})`)
            .join(', '),
    ],
    ['Disk', status.disk?.text ?? 'no quota'],
  ];
  return rows.map(([label, value]) => `${(label + ':').padEnd(11)}${value}`).join('\n');
}

/** `2026-12-07 18:00 UTC`. */
function when(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
