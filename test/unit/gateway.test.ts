import {randomBytes} from 'node:crypto';

import {utils, type ParsedKey} from 'ssh2';
import {describe, expect, it} from 'vitest';

import {isSandmanError} from '../../src/core/errors.js';
import {GatewayAuth, MAX_AUTH_ATTEMPTS, type KeyAttempt} from '../../src/gateway/gateway-auth.js';
import {relayAuthorizedKey} from '../../src/gateway/gateway-keys.js';
import {describeSession, sessionForUser} from '../../src/gateway/session-for-user.js';
import type {CreateRequest} from '../../src/session/session-context.js';
import {authorizedKeysUntil} from '../../src/ssh/ssh-certificates.js';
import {generateKeyPair, type KeyPair} from '../../src/ssh/ssh-keys.js';
import type {StateData} from '../../src/state/state-data.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** The gateway's login rule and its spawn on connect (docs/admin/gateway.md "The SSH gateway"), outside systems faked. */
const alice = generateKeyPair('alice@laptop');
const bob = generateKeyPair('bob@laptop');
const stranger = generateKeyPair('someone@else');

function parsed(pair: KeyPair): ParsedKey {
  const key = utils.parseKey(pair.privateKey);
  return (Array.isArray(key) ? key[0] : key) as ParsedKey;
}

/** A publickey request as OpenSSH sends it: first the question, then the signed attempt. */
function attempt(user: string, pair: KeyPair, signed: boolean, signWith: KeyPair = pair): KeyAttempt {
  const key = parsed(pair).getPublicSSH();
  if (!signed) return {user, key};
  const data = randomBytes(64);
  return {user, key, signed: data, signature: parsed(signWith).sign(data)};
}

function users(): Pick<StateData, 'users' | 'sessions'> {
  const now = '2026-12-03T10:00:00Z';
  return {
    users: {
      alice: {uid: 2001, keys: [{line: alice.publicKey, fingerprint: 'SHA256:a', added_at: now}]},
      bob: {uid: 2002, keys: [{line: bob.publicKey, fingerprint: 'SHA256:b', added_at: now}]},
    },
    sessions: [],
  };
}

describe('the gateway login rule', () => {
  it('lets a user in with a registered key: the question is answered yes, a good signature logs in', () => {
    const auth = new GatewayAuth(users());
    expect(auth.attempt(attempt('alice', alice, false))).toBe('key-ok');
    expect(auth.attempt(attempt('alice', alice, true))).toBe('accepted');
    expect(auth.failures).toBe(0);
  });

  it('answers an unknown user, another user’s key, a stranger’s key and a forged signature alike', () => {
    const auth = new GatewayAuth(users());
    const answers = [
      auth.attempt(attempt('nosuchuser', alice, false)),
      auth.attempt(attempt('bob', alice, false)),
      auth.attempt(attempt('alice', stranger, false)),
      auth.attempt(attempt('alice', alice, true, stranger)),
    ];
    expect(answers).toEqual(['refused', 'refused', 'refused', 'refused']);
    expect(auth.failures).toBe(4);
  });

  it('never says yes for a user it does not know, whatever key is offered', () => {
    const auth = new GatewayAuth(users());
    // The decoy compared for unknown users is a public key anyone can read in the source.
    const decoy = utils.parseKey(
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEdpIbB+DaybJ+gFNmlbGQDIwtGJDfiYrUNHvzrcONGj',
    ) as ParsedKey;
    expect(auth.attempt({user: 'ghost', key: decoy.getPublicSSH()})).toBe('refused');
  });

  it(`hangs up at the ${MAX_AUTH_ATTEMPTS}th failed attempt`, () => {
    const auth = new GatewayAuth(users());
    const answers = Array.from({length: MAX_AUTH_ATTEMPTS}, () =>
      auth.attempt(attempt('alice', stranger, false)),
    );
    expect(answers.slice(0, -1).every((answer) => answer === 'refused')).toBe(true);
    expect(answers.at(-1)).toBe('disconnect');
  });

  it("also accepts the keys the user's current session accepts (a key sandman made, --ssh-key)", () => {
    const state = users();
    const sessionKey = generateKeyPair('sandman-abc');
    state.sessions.push({
      user: 'carol',
      authorized_keys: sessionKey.publicKey,
    } as StateData['sessions'][number]);
    const auth = new GatewayAuth(state);
    expect(auth.attempt(attempt('carol', sessionKey, true))).toBe('accepted');
    expect(auth.attempt(attempt('carol', alice, true))).toBe('refused');
  });
});

describe("the gateway's key in a session", () => {
  it('is accepted from the gateway address only, and takes the session expiry like the user keys', async () => {
    const line = relayAuthorizedKey('ssh-ed25519 AAAArelay sandman-gateway-old-comment', ['172.30.0.1']);
    expect(line).toBe('from="172.30.0.1" ssh-ed25519 AAAArelay sandman-gateway');
    expect(authorizedKeysUntil(`ssh-ed25519 AAAAuser alice@laptop\n${line}`, '2026-12-03T18:00:00Z')).toBe(
      'expiry-time="20261203180000Z" ssh-ed25519 AAAAuser alice@laptop\n' +
        'expiry-time="20261203180000Z",from="172.30.0.1" ssh-ed25519 AAAArelay sandman-gateway\n',
    );
    // An extend rewrites the expiry, not a second one beside it.
    expect(
      authorizedKeysUntil(
        'expiry-time="20261203180000Z",from="172.30.0.1" ssh-ed25519 AAAArelay sandman-gateway',
        '2026-12-04T18:00:00Z',
      ),
    ).toBe('expiry-time="20261204180000Z",from="172.30.0.1" ssh-ed25519 AAAArelay sandman-gateway\n');
    expect(relayAuthorizedKey('ssh-ed25519 AAAArelay', [])).toBe('');
  });

  it('is in every session a create makes, and kept in its record for extend', async () => {
    const world = fakeWorld();
    const created = await world.sessions.create(request('alice'));
    const record = (await world.store.read()).sessions.find((session) => session.id === created.session_id)!;
    expect(record.gateway_key).toMatch(/^from="172\.30\.0\.1" ssh-ed25519 \S+ sandman-gateway$/);
    const env = (await world.docker.containerEnv(record.container_id!))!;
    const keys = env.find((entry) => entry.startsWith('SANDMAN_AUTHORIZED_KEYS='))!;
    expect(keys).toContain(`,${record.gateway_key}`);
  });
});

function request(user: string, extra: Partial<CreateRequest> = {}): CreateRequest {
  return {user, gpu: {kind: 'none'}, password: false, env: [], wait: true, ...extra};
}

/** Every GPU of the replayed 8-GPU host held by a session of its own. */
async function fillEightGpus(world: World): Promise<void> {
  for (let index = 0; index < 8; index++)
    await world.sessions.create(request(`busy${index}`, {gpu: {kind: 'gpu', ref: 'any'}}));
}

function spawner(world: World, said: string[], sleep: () => Promise<void> = async () => undefined) {
  return (user: string) =>
    sessionForUser(
      {
        config: world.config,
        store: world.store,
        create: (asked) => world.sessions.createOrQueue(asked),
        start: (id) => world.sessions.start(id),
        removeExpired: (session) => world.reaper.removeExpired(session),
        clock: world.clock,
        sleep,
        say: (line) => said.push(line),
      },
      user,
    );
}

describe('spawn on connect', () => {
  it("starts a session with the user's defaults when they have none, and finds it the next time", async () => {
    const world = fakeWorld();
    await world.users.add('alice', {
      keys: [{text: alice.publicKey, source: 'test'}],
      gpu: {kind: 'none'},
      ttl: '2h',
    });
    const said: string[] = [];
    const first = await spawner(world, said)('alice');
    expect(said[0]).toBe('sandman: starting your session (no GPU, for 2h) ...');
    expect(said.at(-1)).toMatch(
      new RegExp(`^sandman: session ${first.id} is ready: no GPU, until \\d\\d:\\d\\d UTC`),
    );
    expect(Date.parse(first.expires_at) - Date.parse(first.created_at)).toBe(2 * 3_600_000);
    const again: string[] = [];
    expect((await spawner(world, again)('alice')).id).toBe(first.id);
    expect(again).toEqual([]);
  });

  it('gives a user whose userMaxTtl is under defaultTtl a session cut to it, and says so', async () => {
    const world = fakeWorld();
    await world.users.add('bob', {gpu: {kind: 'none'}, limits: {userMaxTtl: '30m'}});
    const said: string[] = [];
    const session = await spawner(world, said)('bob');
    expect(said[0]).toBe('sandman: starting your session (no GPU, for 30m) ...');
    expect(Date.parse(session.expires_at) - Date.parse(session.created_at)).toBe(30 * 60_000);
  });

  it('makes one session for concurrent first connections of one user', async () => {
    const world = fakeWorld();
    await world.users.add('alice', {keys: [{text: alice.publicKey, source: 'test'}], gpu: {kind: 'none'}});
    const said: string[] = [];
    const found = await Promise.all(Array.from({length: 5}, () => spawner(world, said)('alice')));
    expect(new Set(found.map((session) => session.id)).size).toBe(1);
    expect((await world.store.read()).sessions).toHaveLength(1);
    expect(world.audit.filter((entry) => entry.action === 'create')).toEqual([
      expect.objectContaining({result: 'ok', user: 'alice'}),
    ]);
  });

  it('says what is free and fails when nothing of the kind is free', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    await fillEightGpus(world);
    await world.users.add('alice', {
      keys: [{text: alice.publicKey, source: 'test'}],
      gpu: {kind: 'gpu', ref: 'any'},
    });
    const error = await spawner(world, [])('alice').catch((caught: unknown) => caught);
    expect(isSandmanError(error) && error.kind).toBe('CAPACITY');
    expect((error as Error).message).toMatch(/nothing is free/);
    expect((await world.store.read()).sessions).toHaveLength(8);
  });

  it('waits in line with its position when the user queues by default, and returns the session the line starts', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    await fillEightGpus(world);
    await world.users.add('alice', {
      keys: [{text: alice.publicKey, source: 'test'}],
      gpu: {kind: 'gpu', ref: 'any'},
      queue: true,
    });
    const said: string[] = [];
    let polls = 0;
    // While she waits, busy0 ends: the process that removes it starts the head of the line.
    const session = await spawner(world, said, async () => {
      if (++polls === 2) await world.sessions.remove(['busy0']);
    })('alice');
    expect(said, JSON.stringify(said)).toContain(
      'sandman: nothing free for you now (a GPU); you are 1st in line',
    );
    expect(said.at(-1)).toBe(`sandman: session ${session.id} is ready: ${describeSession(session)}`);
    expect(session.user).toBe('alice');
    expect(session.gpu_uuid).not.toBeNull();
  });
});

describe('spawn on connect, stopped sessions', () => {
  it('starts her stopped session rather than making another', async () => {
    const world = fakeWorld();
    await world.users.add('alice', {keys: [{text: alice.publicKey, source: 'test'}], gpu: {kind: 'none'}});
    const first = await spawner(world, [])('alice');
    await world.sessions.stop('alice');
    const said: string[] = [];
    const again = await spawner(world, said)('alice');
    expect(again.id).toBe(first.id);
    expect(again.status).toBe('running');
    expect(said[0]).toBe(`sandman: starting your stopped session ${first.id} ...`);
    expect((await world.store.read()).sessions).toHaveLength(1);
  });
});

describe('spawn on connect, expired sessions', () => {
  it('removes an expired session no reap has reached as the reaper does, then starts a new one', async () => {
    const world = fakeWorld();
    await world.users.add('alice', {keys: [{text: alice.publicKey, source: 'test'}], gpu: {kind: 'none'}});
    const first = await spawner(world, [])('alice');
    world.clock.advance(61 * 60_000);
    const said: string[] = [];
    const fresh = await spawner(world, said)('alice');
    expect(fresh.id).not.toBe(first.id);
    expect(said[0]).toMatch(
      new RegExp(
        `^sandman: your session ${first.id} expired at .* UTC; removing it \\(your home directory is kept\\)`,
      ),
    );
    expect(said[1]).toBe('sandman: starting your session (no GPU) ...');
    expect((await world.store.read()).sessions.map((session) => session.id)).toEqual([fresh.id]);
    expect(world.docker.containers.has(first.container_id!)).toBe(false);
    // The reaper's own record of it: an audit line and the reaped counter.
    expect(world.audit).toContainEqual(
      expect.objectContaining({action: 'reap', session: first.id, result: 'ok', reason: 'expired'}),
    );
    expect((await world.store.read()).counters?.sessions_reaped_total).toBe(1);
  });

  it('says plainly that it expired and what happens next when it cannot be removed now', async () => {
    const world = fakeWorld();
    await world.users.add('alice', {keys: [{text: alice.publicKey, source: 'test'}], gpu: {kind: 'none'}});
    const first = await spawner(world, [])('alice');
    world.clock.advance(61 * 60_000);
    world.docker.failing.add('removeContainer');
    const error = await spawner(world, [])('alice').catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^your session ${first.id} expired at .* UTC and cannot be removed now \\(.*\\); the reaper tries again`,
      ),
    );
    expect((await world.store.read()).sessions.map((session) => session.id)).toEqual([first.id]);
  });
});
