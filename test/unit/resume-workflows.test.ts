import {describe, expect, it} from 'vitest';

import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** Sessions after a host reboot (docs/admin/reaper.md "Host restarts and reboots"), on in-memory fakes. */
const create = (world: World, user: string, profile?: string) =>
  world.sessions.create({
    user,
    gpu: profile ? {kind: 'profile', profile} : {kind: 'none'},
    password: false,
    env: ['PROJECT=x'],
    wait: true,
  });

/** What a reboot leaves: every container stopped. */
function stopAll(world: World): void {
  for (const container of world.docker.containers.values()) container.running = false;
}

describe('reap after a reboot', () => {
  it('starts a stopped session again when its device (or no device) is still there', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const bob = await create(world, 'bob', '1g.5gb');
    const carol = await create(world, 'carol');
    stopAll(world);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items.map((item) => [item.action, item.user, item.detail]).sort()).toEqual([
      ['resume-session', 'bob', 'container started again'],
      ['resume-session', 'carol', 'container started again'],
    ]);
    expect([...world.docker.containers.values()].every((container) => container.running)).toBe(true);
    expect((await world.store.read()).sessions.map((session) => session.container_id).sort()).toEqual(
      [bob.container_id, carol.container_id].sort(),
    );
  });

  it('moves a session whose MIG device came back with a new UUID: same port, key and workspace', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const bob = await create(world, 'bob', '1g.5gb');
    stopAll(world);
    world.smi.reboot();
    const newUuid = (await world.smi.list())[0]!.migDevices.find(
      (device) => device.profile === '1g.5gb',
    )!.uuid;
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([
      expect.objectContaining({
        action: 'resume-session',
        user: 'bob',
        result: 'done',
        detail: `GPU device ${bob.gpu_uuid} is gone; now on ${newUuid}`,
      }),
    ]);
    const [record] = (await world.store.read()).sessions;
    expect(record).toMatchObject({
      gpu_uuid: newUuid,
      ssh_port: bob.ssh_port,
      workspace: bob.workspace,
      expires_at: bob.expires_at,
    });
    const [container] = world.docker.containers.values();
    expect(container?.running).toBe(true);
    expect(container?.id).toBe(record?.container_id);
    expect(container?.spec.gpuUuid).toBe(newUuid);
    expect(container?.spec.hostPort).toBe(bob.ssh_port);
    expect(container?.spec.env).toContain('PROJECT=x');
    // The same key opens it: the authorized keys of the record, with the same expiry.
    const keys = container?.spec.env.find((entry) => entry.startsWith('SANDMAN_AUTHORIZED_KEYS='));
    expect(keys).toContain(record!.authorized_keys!.trim());
    expect(keys).toContain(`expiry-time="${bob.expires_at.replace(/[-:TZ]/g, '')}Z"`);
    // A new host key, certified, in the session's host key directory, which the container mounts.
    expect(container?.spec.keyMount).toEqual({
      source: await world.keys.hostKeyDir(bob.session_id),
      target: '/etc/ssh/sandman',
    });
    expect(world.keys.hostKeys.get(bob.session_id)?.certificate).toMatch(
      new RegExp(`^cert ${record!.host_public_key} .* until ${new Date(bob.expires_at).toISOString()}$`),
    );
    expect(container?.files.size).toBe(0);
    expect(world.keys.files.has(bob.session_id)).toBe(true);
    // Its keys and banner: the same session files directory, mounted again.
    expect(container?.spec.filesMount).toEqual({
      source: await world.keys.sessionFilesDir(bob.session_id),
      target: '/etc/sandman/session',
    });
  });

  it("gives the session's files back to the container when today's image does not read them from the host", async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const bob = await create(world, 'bob', '1g.5gb');
    expect(await world.keys.sessionFilesDir(bob.session_id)).toBeDefined();
    stopAll(world);
    world.smi.reboot();
    world.docker.labels.set(world.config.image, {});
    await world.reaper.run({dryRun: false});
    const [container] = world.docker.containers.values();
    expect(container?.spec.filesMount).toBeUndefined();
    expect(await world.keys.sessionFilesDir(bob.session_id)).toBeUndefined();
    // The entrypoint writes them from its environment; the next extend copies them in.
    await world.sessions.extend('bob', '10m');
    expect([...container!.files.keys()]).toContain('/etc/ssh/sandman_authorized_keys/bob');
  });

  it('ends a session whose profile no longer exists, with the reason in the audit log', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    await create(world, 'carol', '4g.20gb');
    stopAll(world);
    world.smi.reboot({drop: ['4g.20gb']});
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([
      expect.objectContaining({action: 'remove-session', user: 'carol', result: 'done'}),
    ]);
    expect(report.items[0]?.detail).toMatch(/^GPU device MIG-c42101f0-.* is gone and .*4g\.20gb/);
    expect((await world.store.read()).sessions).toEqual([]);
    expect(world.docker.containers.size).toBe(0);
    expect(world.audit.at(-1)).toMatchObject({action: 'reap', user: 'carol', result: 'ok'});
    expect(world.audit.at(-1)?.reason).toMatch(/^stopped: GPU device .* is gone and /);
  });

  it('makes a new device in dynamic mode when the one it made is gone', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100(), settings: {migMode: 'dynamic'}});
    const dora = await create(world, 'dora', '3g.20gb');
    stopAll(world);
    world.smi.reboot();
    const report = await world.reaper.run({dryRun: false});
    expect(report.items[0]).toMatchObject({action: 'resume-session', result: 'done'});
    const [record] = (await world.store.read()).sessions;
    expect(record?.gpu_uuid).not.toBe(dora.gpu_uuid);
    expect(record).toMatchObject({mig_profile: '3g.20gb', mig_created: true});
    expect(world.smi.calls.filter((call) => call.includes('-cgi 3g.20gb'))).toHaveLength(2);
  });

  it('only says what it would do on a dry run', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    await create(world, 'bob', '1g.5gb');
    stopAll(world);
    const report = await world.reaper.run({dryRun: true});
    expect(report.items).toEqual([expect.objectContaining({action: 'resume-session', result: 'would'})]);
    expect([...world.docker.containers.values()][0]?.running).toBe(false);
  });
});
