/**
 * The notices outbox in the state file (docs/admin/notifications-and-idleness.md "Notifications"): pure functions on StateData, run
 * inside `store.update` (under the state lock). A notice is recorded once by its key; each of its
 * channels is claimed (a lease) under a short lock, delivered with the lock released, and settled
 * (delivered, or one more failed attempt) under another short lock.
 */
import {isoSeconds} from '../core/clock.js';
import type {Config} from '../config/config.js';
import type {NoticeChannel, NoticeEvent, NoticeRecord, StateData} from '../state/state-data.js';

/** A channel is tried at most this many times… */
export const MAX_ATTEMPTS = 5;
/** …and not after the notice is this old (milliseconds). */
export const GIVE_UP_AFTER = 24 * 3_600_000;
/** Finished notices are kept this long, so the same event is not sent again meanwhile. */
export const KEEP_NOTICES = 7 * 86_400_000;

/** Events whose notice also goes to the session's terminals (the expiry warning has its own). */
const TERMINAL_EVENTS: readonly NoticeEvent[] = [
  'idle-stop-ahead',
  'test',
  'job-finished',
  'job-failed',
  'job-timeout',
];

/** What a workflow tells: `notices.add({event, user, session?, job?, text, data})`. */
export interface NoticeInput {
  event: NoticeEvent;
  user: string;
  session?: string | null;
  job?: string | null;
  text: string;
  data?: Record<string, unknown>;
  /** What makes it one event; default `<event>:<session or job or user>`. */
  key?: string;
}

/** The settings that choose channels; `terminals: false` where session terminals are out of reach (Swarm). */
export type NoticeConfig = Pick<Config, 'smtpUrl' | 'notifyWebhook'> & {terminals?: boolean};

/** The channels a notice for this user goes to, as configured now. */
export function channelsFor(state: StateData, input: NoticeInput, config: NoticeConfig): NoticeChannel[] {
  const user = state.users[input.user];
  const channels: NoticeChannel[] = [];
  if (input.session && config.terminals !== false && TERMINAL_EVENTS.includes(input.event))
    channels.push('terminal');
  if (config.smtpUrl && user?.email) channels.push('email');
  if (user?.webhook) channels.push('webhook');
  if (config.notifyWebhook) channels.push('admin-webhook');
  return channels;
}

export function noticeKey(input: NoticeInput): string {
  return input.key ?? `${input.event}:${input.session ?? input.job ?? input.user}`;
}

/**
 * The outbox of `state` for one process's view: `add` records a notice unless its key is known or
 * no channel takes it (true when recorded). Call inside `store.update`.
 */
export function noticesOf(state: StateData, config: NoticeConfig, now: number) {
  return {
    add(input: NoticeInput): boolean {
      const key = noticeKey(input);
      const notices = (state.notices ??= []);
      if (notices.some((notice) => notice.key === key)) return false;
      const channels = channelsFor(state, input, config);
      if (channels.length === 0) return false;
      notices.push({
        key,
        event: input.event,
        user: input.user,
        session: input.session ?? null,
        job: input.job ?? null,
        text: input.text,
        data: input.data ?? {},
        at: isoSeconds(new Date(now)),
        deliveries: Object.fromEntries(channels.map((channel) => [channel, {attempts: 0}])),
      });
      return true;
    },
    /** Forgets finished notices whose key starts so: the event may be told again (a budget re-armed). */
    clear(prefix: string): void {
      if (!state.notices) return;
      state.notices = state.notices.filter((notice) => !notice.key.startsWith(prefix) || !finished(notice));
    },
  };
}
export type Notices = ReturnType<typeof noticesOf>;

/** Every channel delivered or given up. */
export function finished(notice: NoticeRecord): boolean {
  return Object.values(notice.deliveries).every((delivery) => delivery.delivered_at || delivery.gave_up_at);
}

/** One channel of one notice, claimed for delivery. */
export interface Claim {
  notice: NoticeRecord;
  channel: NoticeChannel;
}

/** Whether something is waiting to be delivered (read without the lock first: most reaps have nothing). */
export function hasDue(state: StateData, now: number): boolean {
  return (state.notices ?? []).some((notice) =>
    Object.values(notice.deliveries).some((delivery) => due(delivery, now)),
  );
}

function due(delivery: NoticeRecord['deliveries'][NoticeChannel] & object, now: number): boolean {
  if (delivery.delivered_at || delivery.gave_up_at) return false;
  return !delivery.sending_until || Date.parse(delivery.sending_until) <= now;
}

/**
 * Under the lock: gives up channels past the bound, prunes old finished notices, and claims every
 * due channel until `now + leaseMs` (another process leaves a claimed one alone). Returns copies.
 */
export function claimDue(state: StateData, now: number, leaseMs: number): Claim[] {
  const claims: Claim[] = [];
  const stamp = isoSeconds(new Date(now));
  for (const notice of state.notices ?? []) {
    for (const [channel, delivery] of Object.entries(notice.deliveries) as Array<
      [NoticeChannel, NonNullable<NoticeRecord['deliveries'][NoticeChannel]>]
    >) {
      if (!due(delivery, now)) continue;
      if (delivery.attempts >= MAX_ATTEMPTS || now - Date.parse(notice.at) >= GIVE_UP_AFTER) {
        delivery.gave_up_at = stamp;
        delivery.sending_until = null;
        continue;
      }
      delivery.sending_until = isoSeconds(new Date(now + leaseMs));
      claims.push({notice: structuredClone(notice), channel});
    }
  }
  pruneNotices(state, now);
  return claims;
}

export interface DeliveryResult {
  key: string;
  channel: NoticeChannel;
  /** undefined: delivered. */
  error?: string;
  /** Not tried (its channel failed earlier in this run): the claim is only released. */
  skipped?: boolean;
  /** Cannot ever be delivered (the address or session is gone): given up at once. */
  final?: boolean;
}

/** Under the lock: what the deliveries came to. */
export function settle(state: StateData, results: DeliveryResult[], now: number): void {
  const stamp = isoSeconds(new Date(now));
  for (const result of results) {
    const delivery = state.notices?.find((notice) => notice.key === result.key)?.deliveries[result.channel];
    if (!delivery) continue;
    delivery.sending_until = null;
    if (result.skipped) continue;
    if (result.error === undefined) {
      delivery.delivered_at = stamp;
      delivery.last_error = null;
    } else {
      delivery.attempts += 1;
      delivery.last_error = result.error;
      if (result.final || delivery.attempts >= MAX_ATTEMPTS) delivery.gave_up_at = stamp;
    }
  }
}

/** Finished notices older than KEEP_NOTICES leave the state file. */
export function pruneNotices(state: StateData, now: number): void {
  if (!state.notices) return;
  state.notices = state.notices.filter(
    (notice) => !finished(notice) || now - Date.parse(notice.at) < KEEP_NOTICES,
  );
}
