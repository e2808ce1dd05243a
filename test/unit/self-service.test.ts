import {describe, expect, it} from 'vitest';

import {sessionOfSecret, selfTokenHash} from '../../src/self/self-credential.js';
import {parseSelfArgs, parseUntil} from '../../src/self/self-commands.js';
import {SelfService, type SelfStatus} from '../../src/self/self-service.js';
import {firewallPlan} from '../../src/network/network-policy.js';
import {SessionQueries} from '../../src/session/session-queries.js';
import {FakeCluster, swarmNode} from '../fakes/fake-cluster.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';

const plain = {gpu: {kind: 'none'} as const, password: false, env: [], wait: true};

/** The in-session use cases on one fake host, as `sandman self-serve` wires them. */
function selfService(world: World, links: string[] = []) {
  return new SelfService({
    config: world.config,
    store: world.store,
    clock: world.clock,
    sessions: async () => world.sessions,
    queued: (user) => new SessionQueries(world.store, world.clock).queued({user}),
    loginLink: async (user) => {
      links.push(user);
      return {url: `https://console.example.org/u/${user}-once`, expires_at: '2026-01-01T00:10:00Z'};
    },
    audit: {record: async (entry) => void world.audit.push(entry)},
  });
}

describe('the in-session credential', () => {
  it('is made at create (0400 for her uid, the listener on the network gateway), dies at stop, is new at start', async () => {
    const world = fakeWorld({settings: {selfServicePort: 2201}});
    const session = await world.sessions.create({...plain, user: 'alice', ttl: '1h'});
    const access = world.keys.selfAccess.get(session.session_id)!;
    expect(access).toMatchObject({uid: session.uid, url: `http://172.30.0.1:2201/s/${session.session_id}`});
    const stored = (await world.store.read()).sessions[0]!;
    expect(stored.self_token_hash).toBe(selfTokenHash(access.secret));
    // Only the hash is kept.
    expect(JSON.stringify(await world.store.read())).not.toContain(access.secret);
    const now = world.clock.now().getTime();
    expect(sessionOfSecret((await world.store.read()).sessions, access.secret, now)?.id).toBe(
      session.session_id,
    );
    expect(sessionOfSecret((await world.store.read()).sessions, 'A'.repeat(43), now)).toBeUndefined();
    // Past the session's expiry it is dead (extend renews it by moving the expiry).
    expect(
      sessionOfSecret((await world.store.read()).sessions, access.secret, now + 2 * 3600_000),
    ).toBeUndefined();

    await world.sessions.stop(session.session_id);
    expect((await world.store.read()).sessions[0]!.self_token_hash).toBeNull();
    expect(sessionOfSecret((await world.store.read()).sessions, access.secret, now)).toBeUndefined();
    await world.sessions.start(session.session_id);
    const again = world.keys.selfAccess.get(session.session_id)!;
    expect(again.secret).not.toBe(access.secret);
    expect(sessionOfSecret((await world.store.read()).sessions, again.secret, now)?.id).toBe(
      session.session_id,
    );
  });

  it('is not made in Swarm mode (the command there says it is not available, exit 2)', async () => {
    const world = fakeWorld({cluster: new FakeCluster([swarmNode('lab1', ['NVIDIA-GPU=GPU-a'])])});
    const session = await world.sessions.create({...plain, user: 'alice'});
    expect(world.keys.selfAccess.has(session.session_id)).toBe(false);
    expect((await world.store.read()).sessions[0]!.self_token_hash).toBeUndefined();
  });

  it('is not made with selfServicePort 0', async () => {
    const world = fakeWorld({settings: {selfServicePort: 0}});
    const session = await world.sessions.create({...plain, user: 'alice'});
    expect(world.keys.selfAccess.has(session.session_id)).toBe(false);
    expect((await world.store.read()).sessions[0]!.self_token_hash).toBeUndefined();
  });
});

describe('sandman inside a session', () => {
  it("status: time left, the idle verdict from the reaper's facts, and a keep", async () => {
    const world = fakeWorld({settings: {idleTimeout: '30m'}});
    const session = await world.sessions.create({...plain, user: 'alice', ttl: '2h'});
    world.clock.advance(10 * 60_000);
    const answer = await selfService(world).run(session.session_id, ['status', '--json']);
    expect(answer.exitCode).toBe(0);
    const status = JSON.parse(answer.stdout) as SelfStatus;
    expect(status).toMatchObject({
      session_id: session.session_id,
      time_left_seconds: 110 * 60,
      idle: {verdict: 'active', idle_timeout_seconds: 1800},
      queued: [],
      gpu_hours: null,
    });
    world.clock.advance(25 * 60_000);
    const idle = JSON.parse((await selfService(world).run(session.session_id, ['status', '--json'])).stdout);
    expect(idle.idle.verdict).toBe('idle');
    const text = await selfService(world).run(session.session_id, ['status']);
    expect(text.stdout).toMatch(/^Idle: +idle: not seen active since it started; stopped when idle for 30m/m);
    expect(world.audit).toContainEqual(
      expect.objectContaining({action: 'self', reason: 'status', result: 'ok'}),
    );
  });

  it("status: a GPU session's utilisation verdict and its numbers (the GPU idle rule)", async () => {
    const smi = FakeNvidiaSmi.rtxPro6000x8();
    const world = fakeWorld({smi, settings: {idleGpuWindow: '2h'}});
    const session = await world.sessions.create({
      ...plain,
      gpu: {kind: 'gpu', ref: 'any'},
      user: 'alice',
      ttl: '1d',
    });
    smi.utilizationByUuid.set(session.gpu_uuid!, 0);
    for (let minute = 0; minute < 30; minute++) {
      await world.reaper.run({dryRun: false});
      world.clock.advance(60_000);
    }
    const status = JSON.parse(
      (await selfService(world).run(session.session_id, ['status', '--json'])).stdout,
    );
    expect(status.gpu_idle).toMatchObject({
      state: 'below',
      percent: 0,
      threshold: 5,
      window_ms: 2 * 3600_000,
    });
    const text = (await selfService(world).run(session.session_id, ['status'])).stdout;
    expect(text).toMatch(/^GPU idle: +GPU under 5 % since .*: idle stop at /m);
    // A session without a GPU has no such verdict.
    const plainSession = await world.sessions.create({...plain, user: 'bob'});
    const none = JSON.parse(
      (await selfService(world).run(plainSession.session_id, ['status', '--json'])).stdout,
    );
    expect(none.gpu_idle).toBeNull();
  });

  it('extend: a duration or --until, within userMaxTtl (exit 8 with the numbers, nothing changed)', async () => {
    const world = fakeWorld({settings: {userMaxTtl: '3h'}});
    const session = await world.sessions.create({...plain, user: 'alice', ttl: '1h'});
    const self = selfService(world);
    const before = (await world.store.read()).sessions[0]!.expires_at;
    const extended = await self.run(session.session_id, ['extend', '1h']);
    expect(extended.exitCode).toBe(0);
    const after = (await world.store.read()).sessions[0]!.expires_at;
    expect(Date.parse(after) - Date.parse(before)).toBe(3600_000);
    const until = new Date(Date.parse(session.created_at) + 150 * 60_000)
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    expect((await self.run(session.session_id, ['extend', '--until', until])).exitCode).toBe(0);
    expect((await world.store.read()).sessions[0]!.expires_at).toBe(until);
    const refused = await self.run(session.session_id, ['extend', '2h']);
    expect(refused.exitCode).toBe(8);
    expect(refused.stderr).toMatch(/at most 3 hour\(s\) \(userMaxTtl, from setting\)/);
    expect((await world.store.read()).sessions[0]!.expires_at).toBe(until);
    const earlier = await self.run(session.session_id, ['extend', '--until', before]);
    expect(earlier.exitCode).toBe(2);
  });

  it('keep: within userMaxKeep (per user too; 0 refuses), and the reaper does not stop a kept idle session', async () => {
    const world = fakeWorld({settings: {idleTimeout: '10m', userMaxKeep: '4h'}});
    const session = await world.sessions.create({...plain, user: 'alice', ttl: '8h'});
    const self = selfService(world);
    const tooLong = await self.run(session.session_id, ['keep', '5h']);
    expect(tooLong.exitCode).toBe(8);
    expect(tooLong.stderr).toContain(
      'alice may keep a session for at most 4h (userMaxKeep, from setting); asked: 5h',
    );
    expect((await self.run(session.session_id, ['keep', '1h'])).exitCode).toBe(0);
    expect((await world.store.read()).sessions[0]!.keep_until).toBe(
      new Date(world.clock.now().getTime() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    );

    world.clock.advance(11 * 60_000);
    await world.reaper.run({dryRun: false});
    world.clock.advance(11 * 60_000);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    expect((await world.store.read()).sessions[0]!.status).toBe('running');
    world.clock.advance(40 * 60_000);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([expect.objectContaining({reason: 'idle', user: 'alice', result: 'done'})]);

    await world.users.add('bob', {limits: {userMaxKeep: '0'}});
    const bob = await world.sessions.create({...plain, user: 'bob'});
    const refused = await self.run(bob.session_id, ['keep', '1h']);
    expect(refused.exitCode).toBe(8);
    expect(refused.stderr).toContain('bob may not keep sessions from idle stops (userMaxKeep 0, from user)');
  });

  it('stop answers first, then stops; web asks for her one-time link; unknown words are exit 2', async () => {
    const world = fakeWorld();
    const session = await world.sessions.create({...plain, user: 'alice'});
    const links: string[] = [];
    const self = selfService(world, links);
    const stop = await self.run(session.session_id, ['stop']);
    expect(stop.stdout).toContain(`Stopping session ${session.session_id}`);
    expect((await world.store.read()).sessions[0]!.status).toBe('running');
    await stop.after!();
    expect((await world.store.read()).sessions[0]!.status).toBe('stopped');
    expect((await self.run(session.session_id, ['stop'])).exitCode).toBe(4);
    const web = await self.run(session.session_id, ['web']);
    expect(web.stdout).toContain('https://console.example.org/u/alice-once');
    expect(links).toEqual(['alice']);
    expect((await self.run(session.session_id, ['rm', 'bob'])).exitCode).toBe(2);
    expect((await self.run(session.session_id, ['status', 'extra'])).exitCode).toBe(2);
  });
});

describe('the in-session command line', () => {
  it('parses on the host: --json anywhere, durations, --until as the next UTC time', () => {
    const now = Date.parse('2026-12-07T17:30:00Z');
    expect(parseSelfArgs(['--json', 'keep', '6h'], now)).toEqual({
      command: {name: 'keep', milliseconds: 6 * 3600_000},
      json: true,
    });
    expect(parseUntil('18:00', now)).toBe(Date.parse('2026-12-07T18:00:00Z'));
    expect(parseUntil('09:15', now)).toBe(Date.parse('2026-12-08T09:15:00Z'));
    expect(parseUntil('2026-12-09T10:00Z', now)).toBe(Date.parse('2026-12-09T10:00:00Z'));
    expect(() => parseUntil('25:00', now)).toThrow(/HH:MM/);
    expect(() => parseSelfArgs(['extend'], now)).toThrow(/usage: sandman extend/);
    expect(() => parseSelfArgs(['keep', 'soon'], now)).toThrow(/invalid duration/);
  });
});

describe('the listener in the firewall', () => {
  it('lets the sessions bridge reach selfServicePort and drops it from anywhere else', () => {
    const plan = firewallPlan(
      {
        bridge: 'br-1',
        hostAllow: [],
        egress: 'open',
        id: 'abcdef0123',
        selfService: {address: '172.30.0.1', port: 2201},
      },
      4,
      'DOCKER-USER',
    );
    expect(plan.chains['SANDMAN-IN-abcdef01']).toContain(
      '-d 172.30.0.1/32 -p tcp -m tcp --dport 2201 -j RETURN',
    );
    expect(plan.chains['SANDMAN-SELF-abcdef01']).toEqual(['-i br-1 -j RETURN', '-j DROP']);
    expect(plan.hooks).toContainEqual({
      from: 'INPUT',
      rule: '-d 172.30.0.1/32 -p tcp -m tcp --dport 2201 -j SANDMAN-SELF-abcdef01',
    });
    // An IPv4 listener has no IPv6 rules.
    const v6 = firewallPlan(
      {
        bridge: 'br-1',
        hostAllow: [],
        egress: 'open',
        id: 'abcdef0123',
        selfService: {address: '172.30.0.1', port: 2201},
      },
      6,
      'FORWARD',
    );
    expect(Object.keys(v6.chains)).toEqual(['SANDMAN-IN-abcdef01', 'SANDMAN-FWD-abcdef01']);
  });
});
