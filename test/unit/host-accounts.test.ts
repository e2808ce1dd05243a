import {describe, expect, it} from 'vitest';

import {getentHostAccounts} from '../../src/users/adapters/getent-host-accounts.js';
import {loadConfig} from '../../src/config/config.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** Homes' uids and the host's accounts (docs/admin/users-and-limits.md "Uids and host accounts"), on in-memory fakes. */
const request = (user: string): CreateRequest => ({
  user,
  gpu: {kind: 'none'},
  password: false,
  env: [],
  wait: true,
});

/** Refused with `exitCode`, naming `account`, and nothing of a session left. */
async function expectRefused(world: World, work: Promise<unknown>, exitCode: number, message: RegExp) {
  await expect(work).rejects.toMatchObject({exitCode, message: expect.stringMatching(message)});
  expect((await world.store.read()).sessions).toEqual([]);
  expect(world.docker.containers.size).toBe(0);
}

describe('uid choice', () => {
  it("skips every uid a host user has and every gid a host group has, sandman's own too", async () => {
    const world = fakeWorld();
    world.hostAccounts.add('user', 'carolhost', 20_000);
    world.hostAccounts.add('group', 'labstaff', 20_001);
    expect((await world.users.add('carol', {})).uid).toBe(20_002);
    // An unregistered user's first session chooses the same way.
    world.hostAccounts.add('user', 'davehost', 20_003);
    expect((await world.sessions.create(request('dave'))).uid).toBe(20_004);
    expect(world.workspaces.dirs.get('/srv/workspaces/dave')).toBe(20_004);
  });

  it('stays within uidRange; an exhausted range is exit 5 and keeps nothing', async () => {
    const world = fakeWorld({settings: {uidRange: '30000-30002'}});
    expect((await world.users.add('ann', {})).uid).toBe(30_000);
    world.hostAccounts.add('user', 'x', 30_001);
    world.hostAccounts.add('group', 'y', 30_002);
    await expect(world.users.add('bea', {})).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringMatching(/no free uid for bea in uidRange 30000-30002: .*widen uidRange/),
    });
    await expectRefused(world, world.sessions.create(request('bea')), 5, /no free uid for bea/);
    expect(Object.keys((await world.store.read()).users)).toEqual(['ann']);
  });

  it('asks the account database a batch of uids at a time, not one question each', async () => {
    const world = fakeWorld();
    for (let uid = 20_000; uid < 20_100; uid++) world.hostAccounts.add('user', `h${uid}`, uid);
    expect((await world.users.add('eve', {})).uid).toBe(20_100);
    expect(world.hostAccounts.asked).toBeLessThanOrEqual(3);
  });

  it("adopts a surviving workspace's owner, never when a host account owns it (exit 6)", async () => {
    const world = fakeWorld();
    world.workspaces.dirs.set('/srv/workspaces/fay', 23_456);
    expect((await world.users.add('fay', {})).uid).toBe(23_456);
    world.workspaces.dirs.set('/srv/workspaces/gus', 1000);
    world.hostAccounts.add('user', 'admin', 1000);
    const refusal =
      /workspace \/srv\/workspaces\/gus is owned by uid 1000, which is host user admin \(uid 1000\)/;
    await expect(world.users.add('gus', {})).rejects.toMatchObject({
      exitCode: 6,
      message: expect.stringMatching(refusal),
    });
    await expectRefused(world, world.sessions.create(request('gus')), 6, refusal);
    expect((await world.store.read()).users.gus).toBeUndefined();
  });
});

describe('a kept uid that a host account took afterwards', () => {
  it('refuses create, start and a new user add (exit 6, naming the account and the fix)', async () => {
    const world = fakeWorld();
    const {uid} = await world.users.add('hal', {});
    await world.sessions.create(request('hal'));
    await world.sessions.stop('hal');
    world.hostAccounts.add('user', 'halhost', uid);
    world.hostAccounts.add('group', 'halgrp', uid);
    const named =
      /uid 20000, which sandman keeps for hal, is host user halhost \(uid 20000\) and host group halgrp \(gid 20000\) .*usermod -u NEW halhost, groupmod -g NEW halgrp/;
    await expect(world.sessions.start('hal')).rejects.toMatchObject({
      exitCode: 6,
      message: expect.stringMatching(named),
    });
    expect((await world.store.read()).sessions.map((session) => session.status)).toEqual(['stopped']);
    await world.sessions.remove(['hal']);
    await expectRefused(world, world.sessions.create(request('hal')), 6, named);
    await world.users.remove('hal', {force: false});
    await expect(world.users.add('hal', {})).rejects.toMatchObject({
      exitCode: 6,
      message: expect.stringMatching(named),
    });
    expect((await world.store.read()).users.hal).toEqual({uid});
  });
});

describe('uidRange setting', () => {
  const load = (uidRange: string) => loadConfig({env: {SANDMAN_UID_RANGE: uidRange}, readFile: () => '{}'});
  it('is FIRST-LAST, 20000-59999 by default; anything else is exit 2 naming it', () => {
    expect(loadConfig({env: {}, readFile: () => '{}'}).uidRange).toEqual({first: 20_000, last: 59_999});
    expect(load('30000 - 30010').uidRange).toEqual({first: 30_000, last: 30_010});
    for (const bad of ['0-100', '30010-30000', '30000', 'many', '1000-4294967295'])
      expect(() => load(bad)).toThrowError(
        expect.objectContaining({exitCode: 2, message: expect.stringContaining('invalid setting uidRange')}),
      );
  });
});

describe('getent', () => {
  it("answers for the host's users and groups by id, and nothing for a free id", async () => {
    const found = await getentHostAccounts.holding([0, 2_000_000_000]);
    expect(found).toEqual([
      {kind: 'user', name: 'root', id: 0},
      {kind: 'group', name: 'root', id: 0},
    ]);
  });
});
