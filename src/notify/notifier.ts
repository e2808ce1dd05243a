/**
 * Notifications (docs/admin/notifications-and-idleness.md "Notifications"): workflows record notices under the state lock
 * (`record`, or `noticesOf(state, …).add(…)` inside their own `store.update`), and whichever
 * process recorded them delivers them after the lock is released (`deliver`); the reaper delivers
 * what is left each minute. A slow channel delays a delivery run by at most notifyTimeout, and
 * never while the lock is held.
 */
import type {Clock} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {notFound} from '../core/errors.js';
import type {InContainerClient} from '../runtime/docker/container-client.js';
import {writeToTerminals} from '../reap/terminals.js';
import type {NoticeChannel, NoticeRecord, StateData} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import type {MailSender, WebhookPoster} from './channels.js';
import {noticeTexts, SUBJECTS} from './notice-text.js';
import {
  channelsFor,
  claimDue,
  hasDue,
  noticesOf,
  settle,
  type Claim,
  type DeliveryResult,
  type Notices,
} from './outbox.js';

/**
 * The outbox's door for other workflows (jobs: `job-finished`, `job-failed`, `job-timeout`):
 * inside their own `store.update`, `noticesOf(state, config, now).add({event, user, session?, job?,
 * text, data})`; or `notifier.record((notices) => notices.add(…))`; then `notifier.deliver()` once
 * the lock is released.
 */
export {noticesOf, type NoticeInput, type Notices} from './outbox.js';

export interface NotifierDeps {
  config: Config;
  store: StateStore;
  clock: Clock;
  /** The SMTP server (smtpUrl); absent without one. */
  mail?: () => Promise<MailSender>;
  webhooks: WebhookPoster;
  /** Session terminals on this host; absent where they may be on other nodes (Swarm mode). */
  terminals?: Pick<InContainerClient, 'exec'>;
  /** notifyFrom, else sandman@ this host's FQDN. */
  from: () => Promise<string>;
}

/** What one delivery run did. */
export interface DeliverySummary {
  delivered: number;
  failed: number;
  /** `<channel> <event> <user>: <error>` for each failure. */
  errors: string[];
}

/** One channel's answer to `notify test`. */
export interface TestResult {
  channel: NoticeChannel;
  /** The address, URL or session it went to (a webhook's path is hidden: it is its secret). */
  target: string;
  result: 'ok' | 'failed';
  error?: string;
}

/** The webhook's JSON body (docs/admin/notifications-and-idleness.md "Notifications"); `text` is what Slack and Mattermost show. */
export function webhookBody(notice: NoticeRecord) {
  return {
    event: notice.event,
    user: notice.user,
    session: notice.session ?? null,
    job: notice.job ?? null,
    text: `sandman: ${notice.text}`,
    at: notice.at,
    key: notice.key,
    data: notice.data,
  };
}

export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  /**
   * Records notices under the state lock; returns how many were new. `add` runs on a copy first:
   * most reaps have nothing to tell, and take no lock for it.
   */
  async record(add: (notices: Notices, state: StateData) => void): Promise<number> {
    const now = this.deps.clock.now().getTime();
    const config = {...this.deps.config, terminals: this.deps.terminals !== undefined};
    const copy = await this.deps.store.read();
    const before = JSON.stringify(copy.notices ?? []);
    add(noticesOf(copy, config, now), copy);
    if (JSON.stringify(copy.notices ?? []) === before) return 0;
    return this.deps.store.update((state) => {
      const count = state.notices?.length ?? 0;
      add(noticesOf(state, config, now), state);
      return (state.notices?.length ?? 0) - count;
    });
  }

  /**
   * Delivers what is due: claims under a short lock, sends with the lock released (each server's
   * deliveries one after another, the servers side by side; one that fails is not tried again in
   * this run, so a dead server costs one notifyTimeout), settles under a short lock.
   */
  async deliver(): Promise<DeliverySummary> {
    const summary: DeliverySummary = {delivered: 0, failed: 0, errors: []};
    const {store, clock, config} = this.deps;
    if (!hasDue(await store.read(), clock.now().getTime())) return summary;
    const claimed = await store.update((state) => {
      const claims = claimDue(state, clock.now().getTime(), config.notifyTimeout + 30_000);
      return {claims, users: structuredClone(state.users), sessions: structuredClone(state.sessions)};
    });
    if (claimed.claims.length === 0) return summary;
    const lanes = new Map<string, Claim[]>();
    for (const claim of claimed.claims) {
      // One lane per server: the SMTP server, the admin's webhook, each user's webhook and terminals.
      const lane = ['admin-webhook', 'email'].includes(claim.channel)
        ? claim.channel
        : `${claim.channel}:${claim.notice.user}`;
      lanes.set(lane, [...(lanes.get(lane) ?? []), claim]);
    }
    const results = (
      await Promise.all(
        [...lanes.values()].map(async (claims) => {
          const done: DeliveryResult[] = [];
          let broken = false;
          for (const claim of claims) {
            const base = {key: claim.notice.key, channel: claim.channel};
            if (broken) {
              done.push({...base, skipped: true});
              continue;
            }
            const outcome: DeliveryResult = await this.#send(claim, claimed).then(
              () => ({...base}),
              (error: unknown): DeliveryResult => ({
                ...base,
                error: (error as Error).message,
                final: (error as {final?: boolean}).final === true,
              }),
            );
            if (outcome.error !== undefined && !outcome.final) broken = true;
            done.push(outcome);
          }
          return done;
        }),
      )
    ).flat();
    await store.update((state) => settle(state, results, clock.now().getTime()));
    for (const result of results) {
      if (result.skipped) continue;
      if (result.error === undefined) summary.delivered += 1;
      else {
        summary.failed += 1;
        const notice = claimed.claims.find((claim) => claim.notice.key === result.key)!.notice;
        summary.errors.push(`${result.channel} ${notice.event} ${notice.user}: ${result.error}`);
      }
    }
    return summary;
  }

  /**
   * `sandman notify test USER`: one test notice on each channel configured for her (her
   * terminals when she has a running session here) and the admin's webhook, sent now, not recorded.
   */
  async test(user: string): Promise<TestResult[]> {
    const state = await this.deps.store.read();
    if (!state.users[user]?.added_at)
      throw notFound(`no user ${JSON.stringify(user)} (see "sandman user ls")`);
    const session = state.sessions.find(
      (candidate) => candidate.user === user && candidate.status === 'running' && candidate.container_id,
    );
    const now = this.deps.clock.now();
    const notice: NoticeRecord = {
      key: `test:${user}:${now.toISOString()}`,
      event: 'test',
      user,
      session: session?.id ?? null,
      job: null,
      text: noticeTexts.test(user),
      data: {},
      at: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      deliveries: {},
    };
    const channels = channelsFor(
      state,
      {event: 'test', user, session: session?.id, text: notice.text},
      {...this.deps.config, terminals: this.deps.terminals !== undefined},
    );
    return Promise.all(
      channels.map(async (channel): Promise<TestResult> => {
        const target = targetOf(channel, notice, state, this.deps.config.notifyWebhook);
        try {
          await this.#send({notice, channel}, state);
          return {channel, target, result: 'ok'};
        } catch (error) {
          return {channel, target, result: 'failed', error: (error as Error).message};
        }
      }),
    );
  }

  /** One channel of one notice; targets are read as configured now (a fixed address is retried). */
  async #send(claim: Claim, state: Pick<StateData, 'users' | 'sessions'>): Promise<void> {
    const {notice, channel} = claim;
    const {config} = this.deps;
    const user = state.users[notice.user];
    const gone = (what: string) => Object.assign(new Error(`${what}: not delivered`), {final: true});
    if (channel === 'terminal') {
      const session = state.sessions.find((record) => record.id === notice.session);
      if (!this.deps.terminals || session?.status !== 'running' || !session.container_id)
        throw gone('the session is no longer running here');
      return writeToTerminals(
        this.deps.terminals,
        session.container_id,
        `\r\n*** sandman: ${notice.text} ***\r\n`,
      );
    }
    if (channel === 'email') {
      if (!user?.email || !this.deps.mail || !config.smtpUrl)
        throw gone('no e-mail address or smtpUrl any more');
      const sender = await this.deps.mail();
      return sender.send(
        {
          from: await this.deps.from(),
          to: user.email,
          subject: `[sandman] ${SUBJECTS[notice.event]}`,
          text: `${notice.text}\n\n-- \nsandman on this GPU host (${notice.event}, ${notice.at})\n`,
        },
        config.notifyTimeout,
      );
    }
    const url = channel === 'webhook' ? user?.webhook : config.notifyWebhook;
    if (!url) throw gone('no webhook any more');
    return this.deps.webhooks.post(url, webhookBody(notice), config.notifyTimeout);
  }
}

/** Where a channel goes, for `notify test`'s report; a webhook's path (its secret) is left out. */
function targetOf(
  channel: NoticeChannel,
  notice: NoticeRecord,
  state: StateData,
  adminWebhook: string | undefined,
): string {
  const user = state.users[notice.user];
  if (channel === 'terminal') return `session ${notice.session}`;
  if (channel === 'email') return user?.email ?? '';
  const url = channel === 'webhook' ? user?.webhook : adminWebhook;
  return url ? `${new URL(url).origin}/…` : '';
}
