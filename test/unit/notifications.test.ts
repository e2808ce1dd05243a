import {describe, expect, it} from 'vitest';

import {isoSeconds} from '../../src/core/clock.js';
import {loadConfig} from '../../src/config/config.js';
import {
  claimDue,
  GIVE_UP_AFTER,
  KEEP_NOTICES,
  MAX_ATTEMPTS,
  noticesOf,
  settle,
} from '../../src/notify/outbox.js';
import {reapNotices} from '../../src/notify/reap-notices.js';
import {idleStopAt} from '../../src/reap/idle-deadline.js';
import {emptyState, type StateData} from '../../src/state/state-data.js';
import {FakeCluster, swarmNode} from '../fakes/fake-cluster.js';
import {fakeWorld, type World} from '../fakes/world.js';
import {sessionRecord} from '../helpers/state-file.js';

const plain = {gpu: {kind: 'none'} as const, password: false, env: [], wait: true};
const channels = {smtpUrl: 'smtp://mail.example.org:25', notifyWebhook: 'https://hooks.example.org/admin'};

function withUser(email = 'alice@example.org'): StateData {
  const state = emptyState();
  state.users.alice = {uid: 20000, added_at: '2026-01-01T00:00:00Z', email};
  return state;
}

/** A world whose reaper notices go to alice's mail and webhook and the admin's webhook. */
async function notifyWorld(settings: Record<string, unknown> = {}): Promise<World> {
  const world = fakeWorld({settings: {...channels, ...settings}});
  await world.users.add('alice', {});
  await world.users.set('alice', {email: 'alice@example.org', webhook: 'https://hooks.example.org/alice'});
  return world;
}

const events = (world: World, url: string) =>
  world.webhooks.posts.filter((post) => post.url === url).map((post) => post.body.event);

/** No config file: every setting from the environment or its default. */
const noFile = (file: string): string => {
  throw Object.assign(new Error(`ENOENT: ${file}`), {code: 'ENOENT'});
};

describe('the notices outbox', () => {
  it('records an event once by its key, and not at all when no channel takes it', () => {
    const state = withUser();
    const notices = noticesOf(state, channels, Date.parse('2026-12-07T10:00:00Z'));
    const notice = {
      event: 'expiry-ahead',
      user: 'alice',
      session: 's1',
      key: 'k1',
      text: 'ends soon',
    } as const;
    expect(notices.add(notice)).toBe(true);
    expect(notices.add({...notice, text: 'again'})).toBe(false);
    expect(state.notices).toEqual([
      expect.objectContaining({
        key: 'k1',
        text: 'ends soon',
        deliveries: {email: {attempts: 0}, 'admin-webhook': {attempts: 0}},
      }),
    ]);
    const bare = withUser('');
    expect(noticesOf(bare, {}, 0).add({...notice, key: 'k2'})).toBe(false);
    expect(bare.notices).toEqual([]);
  });

  it('gives a channel up after MAX_ATTEMPTS failures or GIVE_UP_AFTER, and claims nothing twice', () => {
    const state = withUser();
    const start = Date.parse('2026-12-07T10:00:00Z');
    noticesOf(state, {smtpUrl: channels.smtpUrl}, start).add({event: 'test', user: 'alice', text: 't'});
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const now = start + attempt * 60_000;
      const claims = claimDue(state, now, 40_000);
      expect(claims).toHaveLength(1);
      // Claimed: a second process finds nothing to do until the lease ends.
      expect(claimDue(state, now + 1000, 40_000)).toEqual([]);
      settle(state, [{key: claims[0]!.notice.key, channel: 'email', error: 'refused'}], now);
    }
    expect(state.notices![0]!.deliveries.email).toMatchObject({
      attempts: MAX_ATTEMPTS,
      last_error: 'refused',
    });
    expect(state.notices![0]!.deliveries.email!.gave_up_at).toMatch(/Z$/);
    expect(claimDue(state, start + 3_600_000, 40_000)).toEqual([]);

    const old = withUser();
    noticesOf(old, {smtpUrl: channels.smtpUrl}, start).add({event: 'test', user: 'alice', text: 't'});
    expect(claimDue(old, start + GIVE_UP_AFTER, 40_000)).toEqual([]);
    expect(old.notices![0]!.deliveries.email).toMatchObject({
      attempts: 0,
      gave_up_at: isoSeconds(new Date(start + GIVE_UP_AFTER)),
    });
  });

  it('prunes finished notices after KEEP_NOTICES; a skipped delivery costs no attempt', () => {
    const state = withUser();
    const start = Date.parse('2026-12-07T10:00:00Z');
    const notices = noticesOf(state, channels, start);
    notices.add({event: 'test', user: 'alice', key: 'done', text: 't'});
    notices.add({event: 'test', user: 'alice', key: 'waiting', text: 't'});
    const claims = claimDue(state, start, 40_000);
    settle(
      state,
      claims.map((claim) =>
        claim.notice.key === 'done'
          ? {key: 'done', channel: claim.channel}
          : {key: 'waiting', channel: claim.channel, skipped: true},
      ),
      start,
    );
    expect(state.notices!.find((notice) => notice.key === 'waiting')!.deliveries.email).toEqual({
      attempts: 0,
      sending_until: null,
    });
    claimDue(state, start + KEEP_NOTICES - 1000, 40_000);
    expect(state.notices!.map((notice) => notice.key)).toEqual(['done', 'waiting']);
    // The waiting one gave up long since (GIVE_UP_AFTER): both are finished, and now old enough.
    expect(state.notices!.find((notice) => notice.key === 'waiting')!.deliveries.email!.gave_up_at).toMatch(
      /Z$/,
    );
    claimDue(state, start + KEEP_NOTICES, 40_000);
    expect(state.notices).toEqual([]);
  });
});

describe('notices from the reaper', () => {
  it('idle stop ahead (idleWarnBefore) on every channel, then the stop, each once', async () => {
    const world = await notifyWorld({idleTimeout: '1h', idleWarnBefore: '30m'});
    const session = await world.sessions.create({...plain, user: 'alice', ttl: '1d'});
    world.clock.advance(20 * 60_000);
    expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
    world.clock.advance(15 * 60_000);
    const ahead = await world.reaper.run({dryRun: false});
    expect(ahead.notices).toEqual({recorded: 1, delivered: 4, failed: 0, errors: []});
    expect(world.mail.sent).toEqual([
      expect.objectContaining({
        to: 'alice@example.org',
        from: 'sandman@gpu01.example.org',
        subject: '[sandman] your idle session will be stopped soon',
      }),
    ]);
    expect(world.docker.calls.filter((call) => call.startsWith('exec '))).toEqual([
      expect.stringContaining('will be stopped for idleness at'),
    ]);
    expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
    world.clock.advance(30 * 60_000);
    const stopped = await world.reaper.run({dryRun: false});
    expect(stopped.items).toEqual([expect.objectContaining({action: 'stop-session', reason: 'idle'})]);
    expect(stopped.notices).toMatchObject({recorded: 1, delivered: 3});
    expect(events(world, 'https://hooks.example.org/alice')).toEqual(['idle-stop-ahead', 'idle-stopped']);
    expect(events(world, 'https://hooks.example.org/admin')).toEqual(['idle-stop-ahead', 'idle-stopped']);
    expect(world.webhooks.posts[0]!.body).toMatchObject({
      event: 'idle-stop-ahead',
      user: 'alice',
      session: session.session_id,
      text: expect.stringMatching(/^sandman: Session [0-9a-f]{12} \(alice\) has been idle since/),
    });
  });

  it('in Swarm mode the idle warning has no terminal channel: terminals are on other nodes', async () => {
    const world = fakeWorld({
      cluster: new FakeCluster([swarmNode('lab1', [])]),
      settings: {...channels, idleTimeout: '1h', idleWarnBefore: '30m'},
    });
    await world.users.add('alice', {});
    await world.users.set('alice', {email: 'alice@example.org'});
    await world.sessions.create({...plain, user: 'alice', ttl: '1d'});
    world.clock.advance(35 * 60_000);
    expect((await world.reaper.run({dryRun: false})).notices).toEqual({
      recorded: 1,
      delivered: 2,
      failed: 0,
      errors: [],
    });
    expect(Object.keys((await world.store.read()).notices![0]!.deliveries).sort()).toEqual([
      'admin-webhook',
      'email',
    ]);
  });

  it('sandman keep (keep_until) holds back the idle warning; the idle rule is one function', async () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    const session = sessionRecord({id: 'a', user: 'alice', created_at: '2026-12-07T09:00:00Z'});
    const hourly = loadConfig({env: {SANDMAN_IDLE_TIMEOUT: '1h'}, readFile: noFile});
    const off = loadConfig({env: {SANDMAN_IDLE_GPU_WINDOW: '0'}, readFile: noFile});
    expect(idleStopAt(session, hourly, {}, now)).toEqual({
      idleSince: now - 3_600_000,
      stopAt: now,
    });
    expect(idleStopAt({...session, last_active_at: '2026-12-07T09:30:00Z'}, hourly, {}, now)).toEqual({
      idleSince: now - 1_800_000,
      stopAt: now + 1_800_000,
    });
    expect(idleStopAt({...session, keep_until: '2026-12-07T11:00:00Z'}, hourly, {}, now)).toBeUndefined();
    expect(idleStopAt(session, off, {}, now)).toBeUndefined();
    // The GPU rule (docs/admin/notifications-and-idleness.md "GPU idleness") plugs into the same function: under the threshold since
    // 09:30 with a 2h window, the stop is due at 11:30 even with idleTimeout off.
    const gpuSession = {
      ...session,
      gpu_util: {
        last: 0,
        at: '2026-12-07T09:59:00Z',
        source: 'nvidia-smi' as const,
        below_since: '2026-12-07T09:30:00Z',
        below_max: 1,
      },
    };
    const gpuOnly = loadConfig({env: {}, readFile: noFile});
    expect(idleStopAt(gpuSession, gpuOnly, {}, now)).toEqual({
      idleSince: Date.parse('2026-12-07T09:30:00Z'),
      stopAt: Date.parse('2026-12-07T11:30:00Z'),
    });
    // Both rules: the earlier stop wins.
    expect(idleStopAt(gpuSession, hourly, {}, now)).toEqual({idleSince: now - 3_600_000, stopAt: now});

    const world = await notifyWorld({idleTimeout: '1h', idleWarnBefore: '30m'});
    const created = await world.sessions.create({...plain, user: 'alice', ttl: '1d'});
    await world.store.update((state) => {
      state.sessions.find((record) => record.id === created.session_id)!.keep_until = isoSeconds(
        new Date(world.clock.now().getTime() + 4 * 3_600_000),
      );
    });
    world.clock.advance(40 * 60_000);
    expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
  });

  it('idleWarnBefore per group and per user; a session active at each reap is never told', async () => {
    const world = await notifyWorld({
      idleTimeout: '20m',
      groups: {students: {idleWarnBefore: '5m'}},
    });
    const session = await world.sessions.create({...plain, user: 'alice', ttl: '1d'});
    // Active at every reap (an SSH connection): the global 30m is more than idleTimeout, yet no notice.
    world.sshConnections.connections = 1;
    for (let minute = 0; minute < 5; minute++) {
      world.clock.advance(60_000);
      expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
    }
    world.sshConnections.connections = 0;
    await world.users.set('alice', {group: 'students'});
    expect((await world.users.show('alice')).limits.idle_warn_before_minutes).toEqual({
      value: 5,
      source: 'group students',
    });
    world.clock.advance(14 * 60_000);
    expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
    world.clock.advance(2 * 60_000);
    expect((await world.reaper.run({dryRun: false})).notices).toMatchObject({recorded: 1});
    const told = (await world.store.read()).notices!.find((notice) => notice.session === session.session_id)!;
    expect(told.text).toMatch(/in 4m\)/);
    // Her own setting over the group's: 0, never told.
    await world.users.set('alice', {limits: {idleWarnBefore: '0'}});
    expect((await world.users.show('alice')).limits.idle_warn_before_minutes).toEqual({
      value: 0,
      source: 'user',
    });
  });

  it('expiry ahead (warnBefore) by mail and webhooks; a removal at expiry too; an extend is a new expiry', async () => {
    const world = await notifyWorld();
    const session = await world.sessions.create({...plain, user: 'alice', ttl: '30m'});
    world.clock.advance(25 * 60_000);
    expect((await world.reaper.run({dryRun: false})).notices).toMatchObject({recorded: 1, delivered: 3});
    expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
    await world.sessions.extend(session.session_id, '1h');
    world.clock.advance(55 * 60_000);
    expect((await world.reaper.run({dryRun: false})).notices).toMatchObject({recorded: 1});
    world.clock.advance(10 * 60_000);
    const removed = await world.reaper.run({dryRun: false});
    expect(removed.items).toEqual([expect.objectContaining({reason: 'expired', result: 'done'})]);
    expect(events(world, 'https://hooks.example.org/alice')).toEqual([
      'expiry-ahead',
      'expiry-ahead',
      'expired-removed',
    ]);
  });

  it('a failed channel is retried at the next reap and does not hold up the others', async () => {
    const world = await notifyWorld();
    await world.sessions.create({...plain, user: 'alice', ttl: '30m'});
    world.clock.advance(25 * 60_000);
    world.mail.failure = 'connect ECONNREFUSED';
    const first = await world.reaper.run({dryRun: false});
    expect(first.failed).toBe(0);
    expect(first.notices).toMatchObject({recorded: 1, delivered: 2, failed: 1});
    expect(first.notices!.errors).toEqual(['email expiry-ahead alice: connect ECONNREFUSED']);
    expect(world.warnings).toContain(
      'notice not delivered (retried at the next reap): email expiry-ahead alice: connect ECONNREFUSED',
    );
    world.mail.failure = undefined;
    expect((await world.reaper.run({dryRun: false})).notices).toEqual({
      recorded: 0,
      delivered: 1,
      failed: 0,
      errors: [],
    });
    expect(world.mail.sent).toHaveLength(1);
    expect(events(world, 'https://hooks.example.org/admin')).toEqual(['expiry-ahead']);
  });

  it('a dead SMTP server is tried once per run: the other mails wait, their attempts not counted', async () => {
    const world = await notifyWorld();
    await world.users.add('bob', {});
    await world.users.set('bob', {email: 'bob@example.org'});
    await world.sessions.create({...plain, user: 'alice', ttl: '30m'});
    await world.sessions.create({...plain, user: 'bob', ttl: '30m'});
    world.clock.advance(25 * 60_000);
    world.mail.failure = 'no answer from the SMTP server within 10s';
    const report = await world.reaper.run({dryRun: false});
    expect(report.notices).toMatchObject({recorded: 2, failed: 1});
    const attempts = (await world.store.read()).notices!.map((notice) => notice.deliveries.email!.attempts);
    expect(attempts.sort()).toEqual([0, 1]);
    world.mail.failure = undefined;
    expect((await world.reaper.run({dryRun: false})).notices).toMatchObject({delivered: 2, failed: 0});
    expect(world.mail.sent.map((mail) => mail.to).sort()).toEqual(['alice@example.org', 'bob@example.org']);
  });

  it('budget at 80 % and 100 %, each once while it holds, again after use fell under it', async () => {
    const world = await notifyWorld();
    world.budgetsUsed.set('alice', {used: 8, budget: 10});
    await world.store.update((state) => {
      state.users.alice!.limits = {gpuHourBudget: '10h/7d'};
    });
    expect((await world.reaper.run({dryRun: false})).notices).toMatchObject({recorded: 1});
    expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
    world.budgetsUsed.set('alice', {used: 10.5, budget: 10});
    expect((await world.reaper.run({dryRun: false})).notices).toMatchObject({recorded: 1});
    world.budgetsUsed.set('alice', {used: 2, budget: 10});
    expect((await world.reaper.run({dryRun: false})).notices).toBeUndefined();
    world.budgetsUsed.set('alice', {used: 9, budget: 10});
    expect((await world.reaper.run({dryRun: false})).notices).toMatchObject({recorded: 1});
    expect(events(world, 'https://hooks.example.org/alice')).toEqual([
      'budget-80',
      'budget-100',
      'budget-80',
    ]);
    expect(world.mail.sent.map((mail) => mail.subject)).toEqual([
      '[sandman] you used 80 % of your GPU-hour budget',
      '[sandman] you used all of your GPU-hour budget',
      '[sandman] you used 80 % of your GPU-hour budget',
    ]);
    expect(world.webhooks.posts.filter((post) => post.url.endsWith('/alice'))[1]!.body.text).toBe(
      'sandman: alice has used 10.5 of 10 GPU-hours in the last 7d (105 %): new GPU sessions are refused until hours leave the window.',
    );
  });

  it('a home past 90 % and a removal for idleness, from what the reap did', async () => {
    const world = await notifyWorld();
    const notices = reapNotices({config: world.config, notifier: world.notifier, store: world.store});
    const item = {session_id: 'abcdefabcdef', user: 'alice', container: null, result: 'done'} as const;
    const now = world.clock.now().getTime();
    const summary = await notices.afterReap(
      [
        {...item, action: 'warn', reason: 'disk', detail: '9.1 GiB of 10 GiB'},
        {...item, action: 'remove-session', reason: 'idle'},
        {...item, action: 'warn', reason: 'expiring'},
        {...item, action: 'stop-session', reason: 'idle', result: 'failed'},
      ],
      now,
    );
    expect(summary).toMatchObject({recorded: 2, failed: 0});
    expect(events(world, 'https://hooks.example.org/alice')).toEqual(['disk-90', 'idle-removed']);
    expect(world.webhooks.posts[0]!.body.text).toBe(
      'sandman: The home of alice (session abcdefabcdef) is nearly full: 9.1 GiB of 10 GiB. Writes stop at the limit.',
    );
    // The gateway's removal: recorded, not delivered (the next reap delivers it).
    expect(
      await notices.recordItems(
        [{...item, session_id: 'bbbbbbbbbbbb', action: 'remove-session', reason: 'expired'}],
        now,
      ),
    ).toBe(1);
    expect(events(world, 'https://hooks.example.org/alice')).toHaveLength(2);
    expect((await world.notifier.deliver()).delivered).toBe(3);
  });

  it('a queued request that starts tells its user', async () => {
    const world = await notifyWorld({userMaxSessions: 5});
    // A request in line (as session create --queue leaves it), started by the next drain.
    await world.store.update((state) => {
      state.queue = [
        {
          id: 'abcdefabcdef',
          user: 'alice',
          queued_at: isoSeconds(world.clock.now()),
          waiting_for: 'a session slot',
          gpu_hours: 0,
          request: {gpu: {kind: 'none'}, env: []},
        },
      ];
    });
    expect(await world.sessions.queue.drain()).toEqual(['abcdefabcdef']);
    expect(events(world, 'https://hooks.example.org/alice')).toEqual(['queue-started']);
    expect(world.mail.sent.map((mail) => mail.subject)).toEqual(['[sandman] your queued session started']);
  });

  it('notify test sends one of each and reports each channel', async () => {
    const world = await notifyWorld();
    world.webhooks.failing.set('https://hooks.example.org/admin', 'HTTP 500');
    expect(await world.notifier.test('alice')).toEqual([
      {channel: 'email', target: 'alice@example.org', result: 'ok'},
      {channel: 'webhook', target: 'https://hooks.example.org/…', result: 'ok'},
      {channel: 'admin-webhook', target: 'https://hooks.example.org/…', result: 'failed', error: 'HTTP 500'},
    ]);
    expect((await world.store.read()).notices ?? []).toEqual([]);
    await expect(world.notifier.test('bob')).rejects.toThrow(/no user "bob"/);
  });

  it('user set checks an e-mail address and a webhook URL, and "none" takes one away', async () => {
    const world = await notifyWorld();
    await expect(world.users.set('alice', {email: 'not-an-address'})).rejects.toThrow(/invalid --email/);
    await expect(world.users.set('alice', {webhook: 'ftp://x'})).rejects.toThrow(/invalid --webhook/);
    const view = await world.users.set('alice', {email: null});
    expect(view.notify).toEqual({email: null, webhook: 'https://hooks.example.org/alice'});
  });
});
