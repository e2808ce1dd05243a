/**
 * The events a reap sees (docs/admin/notifications-and-idleness.md "Notifications"): what it did (idle stops, removals, a home
 * nearly full) and what is coming (expiry, idle stop, a GPU-hour budget used up), recorded in one
 * short `store.update` and delivered after it, with whatever earlier runs left to retry.
 */
import type {BudgetUse} from '../audit/metrics.js';
import {isoSeconds} from '../core/clock.js';
import type {Config} from '../config/config.js';
import {idleStopAt} from '../reap/idle-deadline.js';
import type {NoticeSummary, ReapItem, ReapNotices} from '../reap/reap-types.js';
import type {StateData} from '../state/state-data.js';
import type {StateStore} from '../state/state-store.js';
import {effectiveLimits} from '../users/user-limits.js';
import {noticeTexts} from './notice-text.js';
import type {Notices} from './outbox.js';
import type {Notifier} from './notifier.js';

/** Budget shares told: 80 % and all of it. */
const BUDGET_STEPS = [
  {event: 'budget-100', share: 1},
  {event: 'budget-80', share: 0.8},
] as const;

export function reapNotices(deps: {
  config: Config;
  notifier: Notifier;
  store: StateStore;
  /** GPU-hours used per user with a budget (src/users/budget-use.ts). */
  budgets?: (state: StateData) => Promise<BudgetUse[]>;
}): ReapNotices {
  return {
    async afterReap(items, now): Promise<NoticeSummary> {
      const {notifier, config} = deps;
      // A usage accounting that cannot be read (the audit log) costs the budget notices of this run only.
      const budgets = deps.budgets ? await deps.budgets(await deps.store.read()).catch(() => []) : [];
      const recorded = await notifier.record((notices, state) => {
        fromItems(notices, items, now);
        ahead(notices, state, config, items, now);
        budgetNotices(notices, state, config, budgets);
      });
      return {recorded, ...(await notifier.deliver())};
    },
    recordItems: (items, now) => deps.notifier.record((notices) => fromItems(notices, items, now)),
  };
}

/** What the reap did: stopped or removed for idleness, removed at expiry, a home nearly full. */
function fromItems(notices: Notices, items: ReapItem[], now: number): void {
  for (const item of items) {
    if (item.result !== 'done' || !item.session_id || !item.user) continue;
    const {session_id: id, user} = item;
    if (item.action === 'stop-session' && item.reason === 'idle')
      notices.add({event: 'idle-stopped', user, session: id, text: noticeTexts.idleStopped(id, user)});
    else if (item.action === 'remove-session' && item.reason === 'idle')
      notices.add({event: 'idle-removed', user, session: id, text: noticeTexts.idleRemoved(id, user)});
    else if (item.action === 'remove-session' && item.reason === 'expired')
      notices.add({event: 'expired-removed', user, session: id, text: noticeTexts.expiredRemoved(id, user)});
    else if (item.action === 'warn' && item.reason === 'disk')
      // The reaper reports a home only when it crosses 90 %: each crossing is one event.
      notices.add({
        event: 'disk-90',
        user,
        session: id,
        key: `disk-90:${id}:${new Date(now).toISOString().slice(0, 16)}`,
        text: noticeTexts.disk(id, user, item.detail ?? ''),
        data: {detail: item.detail ?? null},
      });
  }
}

/** Running sessions that end (warnBefore) or stop for idleness (idleWarnBefore) soon. */
function ahead(notices: Notices, state: StateData, config: Config, items: ReapItem[], now: number): void {
  const acted = new Set(
    items.flatMap((item) => (item.action !== 'warn' && item.session_id ? [item.session_id] : [])),
  );
  for (const session of state.sessions) {
    if (session.status !== 'running' || acted.has(session.id)) continue;
    const {id, user} = session;
    const endsAt = Date.parse(session.expires_at);
    if (endsAt > now && endsAt - now <= config.warnBefore)
      notices.add({
        event: 'expiry-ahead',
        user,
        session: id,
        key: `expiry-ahead:${id}:${session.expires_at}`,
        text: noticeTexts.expiryAhead(id, user, endsAt, now),
        data: {expires_at: session.expires_at},
      });
    const idle = idleStopAt(session, config, state.users, now);
    // Per group or user (docs/admin/notifications-and-idleness.md "Notifications"), and at most half the idle time ahead: a session
    // seen active at this reap is never told. A stop already due (a session started again after
    // long idle: its next reap stops it) is told too, since no warning could come earlier.
    const warnBefore = effectiveLimits(config, user, state.users[user]).idleWarnBefore.value;
    if (
      idle &&
      warnBefore > 0 &&
      idle.stopAt - now <= Math.min(warnBefore, (idle.stopAt - idle.idleSince) / 2)
    ) {
      const since = isoSeconds(new Date(idle.idleSince));
      notices.add({
        event: 'idle-stop-ahead',
        user,
        session: id,
        key: `idle-stop-ahead:${id}:${since}`,
        text: noticeTexts.idleStopAhead(
          id,
          user,
          idle.idleSince,
          idle.stopAt,
          now,
          config.idleAction === 'remove',
        ),
        data: {
          idle_since: since,
          stop_at: isoSeconds(new Date(idle.stopAt)),
          action: config.idleAction,
        },
      });
    }
  }
}

/**
 * 80 % and 100 % of a GPU-hour budget, each once while it holds; when use falls under a step
 * again (hours leave the window), that step may be told again later.
 */
function budgetNotices(notices: Notices, state: StateData, config: Config, budgets: BudgetUse[]): void {
  for (const {user, used, budget} of budgets) {
    const limit = effectiveLimits(config, user, state.users[user]).gpuHourBudget.value;
    if (!limit) continue;
    const window = limit.text.split('/')[1]!;
    const reached = BUDGET_STEPS.find((step) => used >= budget * step.share);
    for (const step of BUDGET_STEPS) if (used < budget * step.share) notices.clear(`${step.event}:${user}:`);
    if (reached)
      notices.add({
        event: reached.event,
        user,
        key: `${reached.event}:${user}:${limit.text}`,
        text: noticeTexts.budget(user, used, budget, window),
        data: {used, budget, window},
      });
  }
}
