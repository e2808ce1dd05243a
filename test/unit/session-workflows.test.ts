import {describe, expect, it} from 'vitest';

import {dependencyUnavailable, isSandmanError} from '../../src/core/errors.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** The session workflows (create with its undo paths, remove, extend) on in-memory fakes: no engine. */
const request = (user: string, extra: Partial<CreateRequest> = {}): CreateRequest => ({
  user,
  gpu: {kind: 'none'},
  password: false,
  env: [],
  wait: true,
  ...extra,
});

async function exitCodeOf(work: Promise<unknown>): Promise<number> {
  try {
    await work;
  } catch (error) {
    if (isSandmanError(error)) return error.exitCode;
    return -1;
  }
  return 0;
}

/** Nothing of a failed create may remain: container, key, record; the port is handed out again. */
async function expectNothingLeft(world: World, user: string): Promise<void> {
  expect([...world.docker.containers.values()].map((c) => c.spec.name)).toEqual([]);
  expect([...world.keys.files.keys()]).toEqual([]);
  expect([...world.keys.hostKeys.keys()]).toEqual([]);
  expect((await world.store.read()).sessions).toEqual([]);
  const retry = await world.sessions.create(request(user));
  expect(retry.ssh_port).toBe(world.config.sshPortStart);
}

describe('session create', () => {
  it('reserves, builds and commits a running session with its key, container and audit line', async () => {
    const world = fakeWorld();
    const created = await world.sessions.create(request('alice'));
    expect(created.status).toBe('running');
    expect(created.ssh_port).toBe(10000);
    expect(created.ssh_command).toBe(
      `ssh -i /fake/keys/${created.session_id} -p 10000 alice@gpu01.example.org`,
    );
    expect(world.keys.files.get(created.session_id)).toBe(created.ssh_private_key);
    const [container] = world.docker.containers.values();
    expect(container?.spec.labels).toMatchObject({
      'io.sandman.user': 'alice',
      'io.sandman.instance': world.stateDir.instance,
    });
    expect(container?.running).toBe(true);
    // The host key and its certificate: in the session's host key directory, mounted read-only,
    // not copied into the container.
    expect(world.keys.hostKeys.get(created.session_id)).toEqual({
      privateKey: `private-${created.session_id}`,
      certificate: expect.stringContaining(`until ${new Date(created.expires_at).toISOString()}`),
    });
    expect(container?.spec.keyMount).toEqual({
      source: `/fake/keys/${created.session_id}.host`,
      target: '/etc/ssh/sandman',
    });
    // Its keys (each until the expiry) and banner: in its session files directory, mounted read-only.
    expect(container?.spec.filesMount).toEqual({
      source: `/fake/keys/${created.session_id}.session`,
      target: '/etc/sandman/session',
    });
    const until = new Date(created.expires_at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    expect(world.keys.sessionFiles.get(created.session_id)).toEqual({
      authorizedKeys: expect.stringMatching(new RegExp(`^expiry-time="${until}Z?" ssh-ed25519 `)),
      motd: expect.stringContaining(created.session_id),
    });
    expect(container?.files.size).toBe(0);
    expect(world.workspaces.dirs.get('/srv/workspaces/alice')).toBe(created.uid);
    expect(world.audit).toEqual([
      {
        action: 'create',
        session: created.session_id,
        user: 'alice',
        result: 'ok',
        expires_at: created.expires_at,
        // What usage accounting reads: no GPU here.
        gpu_uuid: null,
        mig_profile: null,
        gpu_fraction: null,
      },
    ]);
    // The network lock was taken and given back.
    expect(world.locks.held.size).toBe(0);
  });

  it('refuses a second session for the same user (4) and a TTL beyond maxTtl (2) before reserving anything', async () => {
    const world = fakeWorld();
    await world.sessions.create(request('alice'));
    expect(await exitCodeOf(world.sessions.create(request('alice')))).toBe(4);
    expect(await exitCodeOf(world.sessions.create(request('bob', {ttl: '8d'})))).toBe(2);
    expect(world.docker.calls.filter((call) => call.startsWith('createContainer'))).toHaveLength(1);
  });

  const failures: Array<[string, (world: World) => void, number]> = [
    ['the engine is unreachable', (world) => world.docker.failing.add('ping'), 6],
    ['the image is missing', (world) => world.docker.images.clear(), 6],
    ['the key cannot be written', (world) => (world.keys.failWrite = true), 1],
    ['the workspace cannot be made', (world) => (world.workspaces.failEnsure = true), 1],
    ['the network cannot be made', (world) => world.docker.failing.add('ensureNetwork'), 1],
    ['the engine refuses the container', (world) => world.docker.failing.add('createContainer'), 1],
    ['the container does not start', (world) => world.docker.failing.add('startContainer'), 1],
    ['SSH never answers', (world) => (world.sshProbe.answers = false), 1],
  ];
  it.each(failures)('undoes everything when %s', async (_name, breakIt, code) => {
    const world = fakeWorld();
    breakIt(world);
    expect(await exitCodeOf(world.sessions.create(request('alice')))).toBe(code);
    expect(world.audit.at(-1)).toMatchObject({action: 'create', user: 'alice', result: 'failed'});
    world.docker.failing.clear();
    world.docker.images.add(world.config.image);
    Object.assign(world.keys, {failWrite: false});
    Object.assign(world.workspaces, {failEnsure: false});
    world.sshProbe.answers = true;
    await expectNothingLeft(world, 'alice');
  });

  it("asks the engine and the image at once, and says the engine's refusal first", async () => {
    const world = fakeWorld();
    world.docker.failing.add('ping');
    world.docker.images.clear();
    const failure = await world.sessions.create(request('alice')).catch((error: unknown) => error);
    expect(failure).toMatchObject({exitCode: 6, message: expect.stringContaining('unreachable')});
    world.docker.failing.clear();
    expect(await world.sessions.create(request('alice')).catch((error: unknown) => error)).toMatchObject({
      exitCode: 6,
      message: expect.stringContaining('image'),
    });
  });

  it('undoes when the record vanished before the commit (a reap took the reservation for dead)', async () => {
    const world = fakeWorld();
    let firstUpdate = true;
    world.docker.onCreate = async () => {
      if (!firstUpdate) return;
      firstUpdate = false;
      await world.store.update((state) => {
        state.sessions = [];
      });
    };
    const failure = world.sessions.create(request('alice'));
    expect(await exitCodeOf(failure)).toBe(1);
    await expectNothingLeft(world, 'alice');
  });

  it('never starts the container when the firewall rules cannot be put in place (6), leaving nothing', async () => {
    const world = fakeWorld();
    const apply = world.firewall.apply.bind(world.firewall);
    world.firewall.apply = async () => {
      throw dependencyUnavailable('iptables -N SANDMAN-IN failed: Permission denied (you must be root)');
    };
    expect(await exitCodeOf(world.sessions.create(request('alice')))).toBe(6);
    // The container may be made while the rules are checked; it is never started, and removed.
    expect(world.docker.calls.filter((call) => call.startsWith('startContainer'))).toEqual([]);
    world.firewall.apply = apply;
    await expectNothingLeft(world, 'alice');
  });

  it('makes the container while the rules are checked, and starts it only once they hold', async () => {
    const world = fakeWorld();
    const status = world.firewall.status.bind(world.firewall);
    let checked!: () => void;
    const held = new Promise<void>((resolve) => (checked = resolve));
    world.firewall.status = async (policy) => {
      await held;
      return status(policy);
    };
    const created = world.sessions.create(request('alice'));
    while (!world.docker.calls.some((call) => call.startsWith('createContainer')))
      await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(world.docker.calls.filter((call) => call.startsWith('startContainer'))).toEqual([]);
    checked();
    await created;
    expect(world.docker.calls.filter((call) => call.startsWith('startContainer'))).toHaveLength(1);
    expect(world.firewall.applied).toBe(1);
  });

  it('undoes what was started when a signal arrives in the middle', async () => {
    // As Ctrl-C does in the real CLI: the signal arrives once the container exists; the cleanup
    // runs, then the process exits, so the create never resumes (here: it stays pending).
    const world = fakeWorld({stopAt: 'container-created'});
    void world.sessions.create(request('alice')).catch(() => undefined);
    while (world.docker.containers.size === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(world.signals.handlers.size).toBe(1);
    await world.signals.deliver();
    expect(world.docker.containers.size).toBe(0);
    expect(world.keys.files.size).toBe(0);
    expect((await world.store.read()).sessions).toEqual([]);
  });
});

describe('session rm', () => {
  it('removes, releases and audits; a second rm of the same session is "not found" (3)', async () => {
    const world = fakeWorld();
    const created = await world.sessions.create(request('alice'));
    const first = await world.sessions.remove(['alice']);
    expect(first.removed.map((view) => view.session_id)).toEqual([created.session_id]);
    expect(first.errors).toEqual([]);
    expect(world.docker.containers.size).toBe(0);
    expect(world.keys.files.size).toBe(0);
    const second = await world.sessions.remove(['alice']);
    expect(second.removed).toEqual([]);
    expect(second.errors.map(({reference, error}) => [reference, error.exitCode])).toEqual([['alice', 3]]);
    expect(world.workspaces.dirs.has('/srv/workspaces/alice')).toBe(true);
  });

  it('treats a container already gone as removed, and a teardown run twice as done', async () => {
    const world = fakeWorld();
    const created = await world.sessions.create(request('alice'));
    const [record] = (await world.store.read()).sessions;
    world.docker.containers.clear();
    await world.sessions.teardown(record!);
    await world.sessions.teardown(record!);
    expect((await world.store.read()).sessions).toEqual([]);
    expect(world.audit.filter((entry) => entry.result === 'failed')).toEqual([]);
    expect(created.session_id).toBe(record!.id);
  });
});

describe('session extend', () => {
  it('pushes the expiry out, never past maxTtl from creation (2)', async () => {
    const world = fakeWorld({settings: {maxTtl: '3h'}});
    const created = await world.sessions.create(request('alice', {ttl: '1h'}));
    const extended = await world.sessions.extend('alice', '90m');
    expect(Date.parse(extended.expires_at) - Date.parse(created.expires_at)).toBe(90 * 60_000);
    expect(await exitCodeOf(world.sessions.extend('alice', '1h'))).toBe(2);
    // The certificate is renewed in the host key directory, banner and keys in the session files
    // directory: nothing is copied into the container.
    expect(world.keys.hostKeys.get(created.session_id)?.certificate).toContain(
      `until ${new Date(extended.expires_at).toISOString()}`,
    );
    const until = new Date(extended.expires_at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    expect(world.keys.sessionFiles.get(created.session_id)?.authorizedKeys).toContain(
      `expiry-time="${until}`,
    );
    const [container] = world.docker.containers.values();
    expect(container!.files.size).toBe(0);
    expect(world.docker.calls.filter((call) => call.startsWith('putFiles'))).toEqual([]);
  });

  it('on an image that keeps them inside (an older image build), extend copies banner and keys in', async () => {
    const world = fakeWorld();
    world.docker.labels.set(world.config.image, {'io.sandman.image': 'workspace'});
    const created = await world.sessions.create(request('alice', {ttl: '1h'}));
    const [container] = world.docker.containers.values();
    expect(container?.spec.filesMount).toBeUndefined();
    expect(world.keys.sessionFiles.size).toBe(0);
    await world.sessions.extend('alice', '30m');
    expect([...container!.files.keys()].sort()).toEqual([
      '/etc/motd',
      '/etc/ssh/sandman_authorized_keys/alice',
    ]);
    expect(container!.files.get('/etc/motd')?.content).toContain(created.session_id);
  });

  it('wins against a reap that planned to remove the expired session: the reap skips it', async () => {
    const world = fakeWorld();
    await world.sessions.create(request('alice', {ttl: '1m'}));
    world.clock.advance(2 * 60_000);
    // The reap has read the state and planned; its claim (the next update) comes after the extend.
    world.store.beforeNextUpdate = async () => {
      await world.sessions.extend('alice', '30m');
    };
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([expect.objectContaining({reason: 'expired', result: 'skipped'})]);
    expect((await world.store.read()).sessions).toHaveLength(1);
    expect(world.docker.containers.size).toBe(1);
  });

  it('loses against a reap that already claimed the session: conflict (4), session gone', async () => {
    const world = fakeWorld();
    await world.sessions.create(request('alice', {ttl: '1m'}));
    world.clock.advance(2 * 60_000);
    let extendCode: number | undefined;
    world.docker.failing.clear();
    const original = world.docker.removeContainer.bind(world.docker);
    world.docker.removeContainer = async (id) => {
      extendCode = await exitCodeOf(world.sessions.extend('alice', '30m'));
      return original(id);
    };
    await world.reaper.run({dryRun: false});
    expect(extendCode).toBe(4);
    expect((await world.store.read()).sessions).toEqual([]);
  });
});
