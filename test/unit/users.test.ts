import {describe, expect, it} from 'vitest';

import {loadConfig} from '../../src/config/config.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {intervalsFromAudit, gpuHoursOf} from '../../src/usage/usage-report.js';
import {effectiveLimits} from '../../src/users/user-limits.js';
import {generateKeyPair} from '../../src/ssh/ssh-keys.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';

const request = (user: string, extra: Partial<CreateRequest> = {}): CreateRequest => ({
  user,
  gpu: {kind: 'none'},
  password: false,
  env: [],
  wait: true,
  ...extra,
});

const GROUPS = {
  students: {allowedProfiles: ['1g.5gb'], gpuHourBudget: '10h/7d', userMaxTtl: '4h'},
  staff: {userMaxSessions: 3},
};

/** Refused by policy (exit 8) with nothing reserved: no record, container, key or port. */
async function expectRefused(world: World, promise: Promise<unknown>, message: RegExp): Promise<void> {
  await expect(promise).rejects.toMatchObject({
    exitCode: 8,
    kind: 'POLICY',
    message: expect.stringMatching(message),
  });
  const state = await world.store.read();
  expect(state.sessions.filter((session) => session.status === 'creating')).toEqual([]);
  expect([...world.docker.containers.values()].filter((container) => !container.running)).toEqual([]);
}

describe('limits', () => {
  it('resolve user → group → setting, each saying where it came from', () => {
    const config = loadConfig({
      env: {},
      readFile: () => JSON.stringify({groups: GROUPS, userMaxSessions: 2, gpuHourBudget: '40h/7d'}),
    });
    const limits = effectiveLimits(config, 'alice', {
      uid: 20_000,
      added_at: '2026-12-01T00:00:00Z',
      group: 'students',
      limits: {userMaxTtl: '2h'},
    });
    expect(limits.userMaxSessions).toEqual({value: 2, source: 'setting'});
    expect(limits.allowedProfiles).toEqual({value: ['1g.5gb'], source: 'group students'});
    expect(limits.userMaxTtl).toEqual({value: 2 * 3_600_000, source: 'user'});
    expect(limits.gpuHourBudget).toEqual({
      value: {hours: 10, windowMs: 7 * 86_400_000, text: '10h/7d'},
      source: 'group students',
    });
    // Nobody registered: the settings, and maxTtl where no userMaxTtl is set.
    expect(effectiveLimits(config, 'bob', undefined).userMaxTtl).toEqual({
      value: config.maxTtl,
      source: 'setting',
    });
  });

  it('refuses an unknown limit or group name in the config file (exit 2, naming it)', () => {
    const load = (groups: unknown) => () => loadConfig({env: {}, readFile: () => JSON.stringify({groups})});
    expect(load({students: {maxGpus: 2}})).toThrow(/group students: unknown limit "maxGpus"/);
    expect(load({Students: {}})).toThrow(/"Students" is not a group name/);
    expect(load({students: {gpuHourBudget: 'lots'}})).toThrow(
      /must be GPU-hours over a window, e.g. 40h\/7d/,
    );
  });
});

describe('GPU-hours in a window, as usage counts them', () => {
  it('adds up a user’s shares of GPUs, clipped to the window (worked out by hand)', () => {
    const line = (fields: Record<string, unknown>) =>
      JSON.stringify({actor: 'root', result: 'ok', ...fields});
    const {intervals} = intervalsFromAudit([
      // 3g.20gb of a 7-slice A100 for 7 h, of which 5 h are inside the window: 5 × 3/7 = 2.142857 h.
      line({
        time: '2026-11-26T07:00:00Z',
        action: 'create',
        session: 's1',
        user: 'alice',
        gpu_uuid: 'MIG-a',
        mig_profile: '3g.20gb',
        gpu_fraction: 3 / 7,
        expires_at: '2026-11-27T00:00:00Z',
      }),
      line({time: '2026-11-26T14:00:00Z', action: 'rm', session: 's1', user: 'alice'}),
      // A whole GPU for 2 h: 2 h.
      line({
        time: '2026-12-01T10:00:00Z',
        action: 'create',
        session: 's2',
        user: 'alice',
        gpu_uuid: 'GPU-b',
        mig_profile: null,
        gpu_fraction: 1,
        expires_at: '2026-12-01T12:00:00Z',
      }),
      // No GPU: nothing. Another user: not hers.
      line({
        time: '2026-12-01T10:00:00Z',
        action: 'create',
        session: 's3',
        user: 'alice',
        gpu_uuid: null,
        gpu_fraction: null,
        expires_at: '2026-12-01T20:00:00Z',
      }),
      line({
        time: '2026-12-01T10:00:00Z',
        action: 'create',
        session: 's4',
        user: 'bob',
        gpu_uuid: 'GPU-c',
        gpu_fraction: 1,
        expires_at: '2026-12-01T20:00:00Z',
      }),
    ]);
    const until = Date.parse('2026-12-03T09:00:00Z');
    const since = until - 7 * 86_400_000; // 2026-11-26T09:00Z
    const {used, oldestStart} = gpuHoursOf(intervals.values(), 'alice', {since, until});
    expect(used).toBeCloseTo(5 * (3 / 7) + 2, 5);
    // The oldest hour still in the window began when the window did.
    expect(new Date(oldestStart!).toISOString()).toBe('2026-11-26T09:00:00.000Z');
  });
});

describe('registered users and session create', () => {
  it('a registered user’s keys open the session: no private key is made; defaults fill in GPU and TTL', async () => {
    const world = fakeWorld();
    const one = generateKeyPair('alice@laptop').publicKey;
    const two = generateKeyPair('alice@desktop').publicKey;
    await world.users.add('alice', {
      keys: [{text: `${one}\n${two}\n`, source: 'alice.pub'}],
      gpu: {kind: 'none'},
      ttl: '2h',
    });
    const created = await world.sessions.create(request('alice', {gpu: {kind: 'default'}}));
    expect(created.ssh_private_key).toBeNull();
    expect(world.keys.files.size).toBe(0);
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(2 * 3_600_000);
    const [record] = (await world.store.read()).sessions;
    expect(record!.authorized_keys).toBe(`${one}\n${two}`);
  });

  it('user show: keys with ssh-keygen fingerprints, effective limits with their sources, GPU-hours left', async () => {
    const world = fakeWorld({settings: {groups: GROUPS}});
    const {publicKey} = generateKeyPair('alice@laptop');
    await world.users.add('alice', {
      keys: [{text: publicKey, source: 'k.pub'}],
      group: 'students',
      limits: {userMaxSessions: 2},
    });
    world.gpuHoursUsed.set('alice', {used: 4.25, oldestLeavesAt: null});
    const view = await world.users.show('alice');
    expect(view.keys[0]!.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(view.limits).toEqual({
      max_sessions: {value: 2, source: 'user'},
      allowed_profiles: {value: ['1g.5gb'], source: 'group students'},
      max_ttl_minutes: {value: 240, source: 'group students'},
      gpu_hour_budget: {value: '10h/7d', source: 'group students'},
      quota: {value: null, source: 'setting'},
      idle_gpu_threshold: {value: 5, source: 'setting'},
      idle_gpu_window_minutes: {value: 120, source: 'setting'},
      max_keep_minutes: {value: 480, source: 'setting'},
      idle_warn_before_minutes: {value: 30, source: 'setting'},
      max_jobs: {value: 1, source: 'setting'},
    });
    expect(view.gpu_hours).toEqual({used: 4.25, budget: 10, left: 5.75, window: '7d'});
    await expect(world.users.add('alice', {})).rejects.toMatchObject({exitCode: 4});
    await expect(world.users.set('alice', {group: 'nosuch'})).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('no group "nosuch" in the configuration (declared: students, staff'),
    });
  });

  it('refuses past userMaxSessions (8 when set, 4 for the default one-session rule)', async () => {
    const world = fakeWorld({settings: {groups: GROUPS}});
    await world.sessions.create(request('carl'));
    await expect(world.sessions.create(request('carl'))).rejects.toMatchObject({exitCode: 4});
    await world.users.add('dana', {group: 'staff'});
    for (let index = 0; index < 3; index++) await world.sessions.create(request('dana'));
    await expectRefused(
      world,
      world.sessions.create(request('dana')),
      /dana has 3 session\(s\) .* at most 3 \(userMaxSessions, from group staff\)/,
    );
    // Several sessions: the user name no longer picks one.
    await expect(world.sessions.extend('dana', '1h')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/user dana has 3 sessions .*: give the session ID/),
    });
  });

  it('refuses a profile the group does not allow and a TTL over userMaxTtl, reserving nothing', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100(), settings: {groups: GROUPS}});
    await world.users.add('erin', {group: 'students'});
    await expectRefused(
      world,
      world.sessions.create(request('erin', {gpu: {kind: 'profile', profile: '4g.20gb'}})),
      /erin may use 1g\.5gb \(allowedProfiles, from group students\); asked for MIG 4g\.20gb/,
    );
    // Asked by UUID: the device picked is checked too.
    await expectRefused(
      world,
      world.sessions.create(
        request('erin', {gpu: {kind: 'mig-instance', uuid: 'MIG-c42101f0-a1fa-5b68-8908-7c5c887f28bd'}}),
      ),
      /asked for MIG 4g\.20gb/,
    );
    await expectRefused(
      world,
      world.sessions.create(request('erin', {ttl: '5h'})),
      /erin may ask for at most 4 hour\(s\) \(userMaxTtl, from group students\); asked: 5 hour\(s\)/,
    );
    const allowed = await world.sessions.create(
      request('erin', {gpu: {kind: 'profile', profile: '1g.5gb'}, ttl: '3h'}),
    );
    expect(allowed.mig_profile).toBe('1g.5gb');
    await expectRefused(
      world,
      world.sessions.extend(allowed.session_id, '2h'),
      /may last at most 4 hour\(s\) \(userMaxTtl/,
    );
  });

  it('caps a default TTL by the user limit instead of refusing it; an explicit ask above it is still refused', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    await world.users.add('bob', {limits: {userMaxTtl: '30m'}});
    // defaultTtl is 60m: nothing asked gives bob his 30 minutes.
    const capped = await world.sessions.create(request('bob'));
    expect(Date.parse(capped.expires_at) - Date.parse(capped.created_at)).toBe(30 * 60_000);
    await world.sessions.remove([capped.session_id]);
    await expectRefused(
      world,
      world.sessions.create(request('bob', {ttl: '1h'})),
      /bob may ask for at most 30 minutes \(userMaxTtl, from user\); asked: 1 hour\(s\)/,
    );
    // His own default above his limit is capped the same way.
    await world.users.set('bob', {ttl: '2h'});
    const own = await world.sessions.create(request('bob'));
    expect(Date.parse(own.expires_at) - Date.parse(own.created_at)).toBe(30 * 60_000);
  });

  it('refuses a GPU session once the budget is spent, naming when the oldest hour leaves; no-GPU still works', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100(), settings: {groups: GROUPS}});
    await world.users.add('finn', {group: 'students'});
    world.gpuHoursUsed.set('finn', {used: 10.4, oldestLeavesAt: Date.parse('2026-12-04T09:00:00Z')});
    await expectRefused(
      world,
      world.sessions.create(request('finn', {gpu: {kind: 'profile', profile: '1g.5gb'}})),
      /^finn used 10\.4 of 10 GPU-hours in the last 7d \(gpuHourBudget, from group students\); the oldest hour leaves the window at 2026-12-04 09:00 UTC/,
    );
    const plain = await world.sessions.create(request('finn', {gpu: {kind: 'none'}}));
    expect(plain.gpu_uuid).toBeNull();
    // A session without a GPU may still be extended; a GPU session of a spent budget may not.
    await world.sessions.extend(plain.session_id, '1h');
    await world.sessions.remove([plain.session_id]);
    world.gpuHoursUsed.set('finn', {used: 0, oldestLeavesAt: null});
    const gpu = await world.sessions.create(request('finn', {gpu: {kind: 'profile', profile: '1g.5gb'}}));
    world.gpuHoursUsed.set('finn', {used: 10.4, oldestLeavesAt: null});
    await expect(world.sessions.extend(gpu.session_id, '1h')).rejects.toMatchObject({
      exitCode: 8,
      message: expect.stringMatching(
        new RegExp(`^cannot extend session ${gpu.session_id}: finn used 10\\.4 of 10 GPU-hours`),
      ),
    });
  });

  it('user rm keeps the uid (the home keeps its owner) and refuses while sessions exist (4)', async () => {
    const world = fakeWorld();
    await world.users.add('gail', {});
    const uid = (await world.store.read()).users.gail!.uid;
    await world.sessions.create(request('gail'));
    await expect(world.users.remove('gail', {force: false})).rejects.toMatchObject({exitCode: 4});
    await world.sessions.remove(['gail']);
    await world.users.remove('gail', {force: false});
    expect((await world.store.read()).users.gail).toEqual({uid});
    await expect(world.users.show('gail')).rejects.toMatchObject({exitCode: 3});
  });
});
