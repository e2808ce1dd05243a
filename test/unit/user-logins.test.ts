import {describe, expect, it} from 'vitest';

import {guardUserRequest} from '../../cli/http/user-guard.js';
import {apiRoutes} from '../../cli/http/api-routes.js';
import {emptyState, type JobRecord, type SessionRecord, type StateData} from '../../src/state/state-data.js';
import {createUserLoginLink} from '../../src/web/user-login-link.js';
import {ownJob, ownSession, userAccess, userCreateRefusal, userJobRefusal} from '../../src/web/user-scope.js';
import {WebAccess} from '../../src/web/web-access.js';
import {InMemoryStateStore} from '../fakes/in-memory-state-store.js';
import {InMemoryWebAccessStore} from '../fakes/in-memory-web-access-store.js';

/** User logins (docs/admin/console-and-sign-in.md "User logins"): the links, and what such a login may reach. */

const HOUR = 3_600_000;
const START = Date.parse('2026-12-07T10:00:00Z');

function session(id: string, user: string): SessionRecord {
  return {id, user, status: 'running', expires_at: '2026-12-07T12:00:00Z'} as SessionRecord;
}

function state(): StateData {
  const data = emptyState();
  data.users.alice = {uid: 20001, added_at: '2026-12-01T00:00:00Z', keys: []};
  data.users.bob = {uid: 20002, added_at: '2026-12-01T00:00:00Z', keys: []};
  data.sessions = [session('aaaa11112222', 'alice'), session('bbbb33334444', 'bob')];
  data.queue = [
    {
      id: 'cccc55556666',
      user: 'bob',
      queued_at: '2026-12-07T09:00:00Z',
      waiting_for: 'a whole GPU',
      gpu_hours: 0,
      request: {gpu: {kind: 'default'}, env: []},
    },
  ];
  data.jobs = [job('1111aaaa2222', 'alice', 'train'), job('3333bbbb4444', 'bob', 'sweep')];
  return data;
}

function job(id: string, user: string, name: string): JobRecord {
  return {id, user, name, state: 'running', command: ['python', 'train.py']} as JobRecord;
}

async function world() {
  const clock = {time: START, now: () => new Date(clock.time)};
  const store = new InMemoryStateStore();
  await store.update((data) => Object.assign(data, state()));
  const web = new InMemoryWebAccessStore();
  return {clock, store, web, access: new WebAccess(web, clock)};
}

describe('a user login link', () => {
  it('works once, logs in as that user for the login TTL, and keeps only its hash', async () => {
    const {clock, store, web, access} = await world();
    const link = await createUserLoginLink(
      {access, store, defaultTtl: 15 * 60_000},
      {user: 'alice', publicUrl: 'https://gpu1.example.org:8443/', madeBy: 'root'},
    );
    expect(link.expires_at).toBe('2026-12-07T10:15:00.000Z');
    const token = /^https:\/\/gpu1\.example\.org:8443\/t\/([A-Za-z0-9_-]{43})$/.exec(link.url)?.[1];
    expect(token).toBeDefined();
    expect(JSON.stringify(web.data)).not.toContain(token);
    const known = (user: string) => user === 'alice';
    const used = await access.redeem(token!, () => undefined, 12 * HOUR, known);
    if (!('cookie' in used)) throw new Error(`refused: ${used.refused}`);
    expect(used.grant).toEqual({kind: 'user', user: 'alice'});
    expect(used.expiresAt.getTime()).toBe(START + 12 * HOUR);
    expect(await access.check(used.cookie)).toEqual({kind: 'user', user: 'alice'});
    expect(await access.redeem(token!, () => undefined, 12 * HOUR, known)).toEqual({refused: 'used'});
    // Expired: past its TTL; and one whose user is no longer registered.
    const late = await access.makeUserLink('alice', 60_000, 'root');
    clock.time += 61_000;
    expect(await access.redeem(late.token, () => undefined, HOUR, known)).toEqual({refused: 'expired'});
    const gone = await access.makeUserLink('alice', HOUR, 'root');
    expect(
      await access.redeem(
        gone.token,
        () => undefined,
        HOUR,
        () => false,
      ),
    ).toEqual({refused: 'expired'});
  });

  it('is refused for an unregistered user (exit 3), without apiPublicUrl (exit 2) and for a bad TTL', async () => {
    const {store, access} = await world();
    const deps = {access, store, defaultTtl: 60_000};
    await expect(
      createUserLoginLink(deps, {user: 'carol', publicUrl: 'http://h:1', madeBy: 'root'}),
    ).rejects.toMatchObject({kind: 'NOT_FOUND', message: expect.stringContaining('carol is not registered')});
    await expect(
      createUserLoginLink(deps, {user: 'alice', publicUrl: undefined, madeBy: 'root'}),
    ).rejects.toMatchObject({kind: 'INVALID_INPUT', message: expect.stringContaining('apiPublicUrl')});
    await expect(
      createUserLoginLink(deps, {user: 'alice', ttl: 'soon', publicUrl: 'http://h:1', madeBy: 'root'}),
    ).rejects.toMatchObject({kind: 'INVALID_INPUT'});
  });
});

describe("a user login's scope", () => {
  it('refuses every route not listed for users, the admin routes among them', () => {
    const refused = apiRoutes()
      .filter(([method, path]) => typeof userAccess(method, path) === 'object')
      .map(([method, path]) => `${method} ${path}`);
    expect(refused).toEqual([
      'GET /usage',
      'DELETE /sessions/:id',
      'DELETE /sessions',
      'GET /users',
      'GET /users/:name',
      'POST /users',
      'PATCH /users/:name',
      'DELETE /users/:name',
      'GET /gpus',
    ]);
    expect(userAccess('DELETE', '/sessions/:id')).toEqual({
      refused: expect.stringMatching(/^DELETE \/sessions\/\{id\} is for the admin/),
    });
    // A route added later is the admin's until it is listed.
    expect(typeof userAccess('POST', '/sessions/:id/archive')).toBe('object');
    // Her batch jobs are hers (docs/admin/console-and-sign-in.md "User logins").
    expect(userAccess('POST', '/jobs')).toBe('own-job-create');
    expect(userAccess('GET', '/jobs')).toBe('own-list');
    expect(userAccess('DELETE', '/jobs/:id')).toBe('own-job');
    expect(userAccess('GET', '/jobs/:id/logs')).toBe('own-job');
    expect(userAccess('POST', '/sessions/:id/extend')).toBe('own-session');
  });

  it('finds her own sessions and queued requests by ID, prefix or name; never anyone else’s', () => {
    const data = state();
    expect(ownSession(data, 'alice', 'aaaa11112222')).toEqual({id: 'aaaa11112222'});
    expect(ownSession(data, 'alice', 'aaaa')).toEqual({id: 'aaaa11112222'});
    expect(ownSession(data, 'alice', 'alice')).toEqual({id: 'aaaa11112222'});
    expect(ownSession(data, 'bob', 'cccc55556666')).toEqual({id: 'cccc55556666'});
    // Bob's session and queued request, by ID, prefix or name, and one that does not exist: the same answer.
    for (const other of ['bbbb33334444', 'bbbb', 'bob', 'cccc55556666', 'ffffffffffff'])
      expect(ownSession(data, 'alice', other)).toEqual({
        refused: `no session of yours is "${other}": a user login sees and changes her own sessions only`,
      });
  });

  it('creates for herself only, with the configured image', () => {
    expect(userCreateRefusal('alice', {ttl_minutes: 60})).toBeUndefined();
    expect(userCreateRefusal('alice', {user_id: 'alice'})).toBeUndefined();
    expect(userCreateRefusal('alice', {user_id: 'bob'})).toMatch(/for herself only: user_id must be "alice"/);
    expect(userCreateRefusal('alice', {image: 'evil:latest'})).toMatch(/the image is the admin's choice/);
  });

  it('the guard: her session ID resolved, a create made hers, bob refused, a removed user refused', async () => {
    const {store} = await world();
    const services = {store: async () => store};
    const guard = (user: string, method: string, routePath: string, params = {}, body?: unknown) =>
      guardUserRequest(services, user, {method, routePath, params, body});
    expect(await guard('alice', 'POST', '/sessions/:id/stop', {id: 'alice'})).toEqual({
      params: {id: 'aaaa11112222'},
      body: undefined,
    });
    expect(
      await guard('alice', 'POST', '/sessions/:id/extend', {id: 'bbbb33334444'}, {ttl_minutes: 60}),
    ).toEqual({
      refused: expect.stringContaining('no session of yours'),
    });
    expect(await guard('alice', 'POST', '/sessions', {}, {ttl_minutes: 30})).toEqual({
      params: {},
      body: {ttl_minutes: 30, user_id: 'alice'},
    });
    expect(await guard('alice', 'POST', '/sessions', {}, {user_id: 'bob'})).toEqual({
      refused: expect.stringContaining('for herself only'),
    });
    expect(await guard('alice', 'GET', '/usage')).toEqual({
      refused: expect.stringContaining('is for the admin'),
    });
    await store.update((data) => void delete data.users.alice);
    expect(await guard('alice', 'GET', '/sessions')).toEqual({
      refused: 'user alice is no longer registered: this login no longer works',
    });
  });

  it('finds her own jobs by ID, prefix or name; never anyone else’s, and submits for herself only', async () => {
    const data = state();
    expect(ownJob(data, 'alice', '1111aaaa2222')).toEqual({id: '1111aaaa2222'});
    expect(ownJob(data, 'alice', '1111')).toEqual({id: '1111aaaa2222'});
    expect(ownJob(data, 'alice', 'train')).toEqual({id: '1111aaaa2222'});
    // Bob's job by ID, prefix or name, and one that does not exist: the same answer.
    for (const other of ['3333bbbb4444', '3333', 'sweep', 'ffffffffffff'])
      expect(ownJob(data, 'alice', other)).toEqual({
        refused: `no job of yours is "${other}": a user login sees and changes her own jobs only`,
      });
    expect(userJobRefusal('alice', {command: ['true']})).toBeUndefined();
    expect(userJobRefusal('alice', {user_id: 'bob'})).toMatch(/submits jobs for herself only/);

    const {store} = await world();
    const guard = (method: string, routePath: string, params = {}, body?: unknown) =>
      guardUserRequest({store: async () => store}, 'alice', {method, routePath, params, body});
    expect(await guard('DELETE', '/jobs/:id', {id: 'train'})).toEqual({
      params: {id: '1111aaaa2222'},
      body: undefined,
    });
    expect(await guard('GET', '/jobs/:id/logs', {id: '3333bbbb4444'})).toEqual({
      refused: expect.stringContaining('no job of yours'),
    });
    expect(await guard('POST', '/jobs', {}, {command: ['true']})).toEqual({
      params: {},
      body: {command: ['true'], user_id: 'alice'},
    });
    expect(await guard('POST', '/jobs', {}, {user_id: 'bob', command: ['true']})).toEqual({
      refused: expect.stringContaining('for herself only'),
    });
  });
});
