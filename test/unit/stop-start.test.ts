import {describe, expect, it} from 'vitest';

import {isSandmanError} from '../../src/core/errors.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** `session stop` and `session start` (docs/admin/sessions.md "Stop and start") on the replayed A100, outside systems faked. */
const slice = (user: string, extra: Partial<CreateRequest> = {}): CreateRequest => ({
  user,
  gpu: {kind: 'profile', profile: '1c.2g.10gb'},
  password: false,
  env: [],
  wait: true,
  ...extra,
});
const record = async (world: World, user: string) =>
  (await world.store.read()).sessions.find((session) => session.user === user)!;

describe('session stop', () => {
  it('stops the container, frees the GPU at once (gpuHoldAfterStop 0) and keeps port, keys and home', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const created = await world.sessions.create(slice('alice'));
    const stopped = await world.sessions.stop('alice');
    expect(stopped).toMatchObject({status: 'stopped', already: false, gpu_freed: created.gpu_uuid});
    const stored = await record(world, 'alice');
    expect(stored).toMatchObject({
      status: 'stopped',
      gpu_uuid: null,
      ssh_port: created.ssh_port,
      stopped_gpu: {gpu_uuid: created.gpu_uuid, mig_profile: '1c.2g.10gb'},
    });
    expect(world.docker.containers.get(stored.container_id!)?.running).toBe(false);
    expect(await world.keys.read(stored.id)).toBe(created.ssh_private_key);
    expect((await world.store.read()).counters?.gpus_freed_by_stop_total).toBe(1);
    // Again: a success that says so.
    expect(await world.sessions.stop('alice')).toMatchObject({already: true, gpu_freed: null});
    expect(world.audit.filter((entry) => entry.action === 'stop')).toHaveLength(1);
  });

  it('gives the freed device to the next create; start then gets another of the profile in a container made from the stopped one', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const alice = await world.sessions.create(slice('alice'));
    const oldContainer = (await record(world, 'alice')).container_id!;
    await world.sessions.stop('alice');
    const bob = await world.sessions.create(slice('bob'));
    expect(bob.gpu_uuid).toBe(alice.gpu_uuid);
    const started = await world.sessions.start('alice');
    expect(started).toMatchObject({status: 'running', device: 'moved', ssh_port: alice.ssh_port});
    expect(started.gpu_uuid).not.toBe(alice.gpu_uuid);
    const stored = await record(world, 'alice');
    expect(world.docker.commits).toEqual([stored.committed_image]);
    expect(stored.container_id).not.toBe(oldContainer);
    // The old container is gone; the new one carries the new device and runs from the image.
    expect(world.docker.containers.has(oldContainer)).toBe(false);
    const spec = world.docker.containers.get(stored.container_id!)!.spec;
    expect(spec).toMatchObject({
      gpuUuid: started.gpu_uuid,
      image: stored.committed_image,
      hostPort: alice.ssh_port,
    });
    // The new container mounts the same session files directory, with the new expiry in it.
    expect(spec.filesMount).toEqual({
      source: `/fake/keys/${stored.id}.session`,
      target: '/etc/sandman/session',
    });
    expect(world.keys.sessionFiles.get(stored.id)?.motd).toContain(
      stored.expires_at.replace('T', ' ').slice(0, 16),
    );
    // Its image goes with the session.
    await world.sessions.remove(['alice']);
    expect(world.docker.images.has(stored.committed_image!)).toBe(false);
    expect(world.keys.sessionFiles.has(stored.id)).toBe(false);
  });

  /** alice's session without a GPU, stopped, and started an hour later; its record and new expiry stamp. */
  const startedAnHourLater = async (world: World) => {
    await world.sessions.create(slice('alice', {gpu: {kind: 'none'}}));
    await world.sessions.stop('alice');
    world.clock.advance(60 * 60_000);
    await world.sessions.start('alice');
    const stored = await record(world, 'alice');
    return {stored, until: stored.expires_at.replace(/[-:T]/g, '').replace(/Z$/, '')};
  };

  it('start rewrites the keys and banner in the session files directory and copies nothing into the container', async () => {
    const world = fakeWorld();
    const {stored, until} = await startedAnHourLater(world);
    expect(world.keys.sessionFiles.get(stored.id)?.authorizedKeys).toContain(`expiry-time="${until}Z"`);
    expect(world.docker.calls.filter((call) => call.startsWith('putFiles'))).toEqual([]);
  });

  it('start copies keys and banner into a container whose image keeps them inside, before it starts', async () => {
    const world = fakeWorld();
    world.docker.labels.set(world.config.image, {});
    const {stored, until} = await startedAnHourLater(world);
    const files = world.docker.containers.get(stored.container_id!)!.files;
    expect(files.get('/etc/ssh/sandman_authorized_keys/alice')?.content).toContain(`expiry-time="${until}Z"`);
    const steps = world.docker.calls.filter((call) => /^(putFiles|startContainer)/.test(call));
    expect(steps.slice(-2).map((call) => call.split(' ')[0])).toEqual(['putFiles', 'startContainer']);
  });

  it('start with its device still free takes it back without a commit', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const alice = await world.sessions.create(slice('alice'));
    const container = (await record(world, 'alice')).container_id;
    await world.sessions.stop('alice');
    const started = await world.sessions.start('alice');
    expect(started).toMatchObject({device: 'same', gpu_uuid: alice.gpu_uuid, already: false});
    expect(world.docker.commits).toEqual([]);
    expect((await record(world, 'alice')).container_id).toBe(container);
    expect(await world.sessions.start('alice')).toMatchObject({already: true});
  });

  it('pauses the TTL: a 10-minute session stopped after 2 minutes and started 3 minutes later ends 8 minutes after the start', async () => {
    const world = fakeWorld();
    await world.sessions.create({...slice('alice'), gpu: {kind: 'none'}, ttl: '10m'});
    world.clock.advance(2 * 60_000);
    await world.sessions.stop('alice');
    world.clock.advance(3 * 60_000);
    // Stopped, it does not expire: reap has nothing to do even past its old expiry.
    world.clock.advance(10 * 60_000);
    expect((await world.reaper.run({dryRun: false})).items).toEqual([]);
    const started = await world.sessions.start('alice');
    expect(Date.parse(started.expires_at) - world.clock.now().getTime()).toBe(8 * 60_000);
    expect(started.device).toBe('none');
  });

  it('start with nothing of its kind free is exit 5 naming what is free; the session stays stopped holding nothing', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    await world.sessions.create(slice('alice'));
    await world.sessions.stop('alice');
    await world.sessions.create(slice('bob'));
    await world.sessions.create(slice('carol'));
    const error = await world.sessions.start('alice').catch((caught: unknown) => caught);
    expect(isSandmanError(error) && error.kind).toBe('CAPACITY');
    expect((error as Error).message).toMatch(/no free 1c\.2g\.10gb MIG device.*free/);
    expect(await record(world, 'alice')).toMatchObject({status: 'stopped', gpu_uuid: null});
    expect((await record(world, 'alice')).starter_pid ?? null).toBeNull();
  });

  it('start --queue waits in line when nothing is free and is started by the rm that frees a device; stop leaves the line', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    await world.sessions.create(slice('alice'));
    await world.sessions.stop('alice');
    await world.sessions.create(slice('bob'));
    await world.sessions.create(slice('carol'));
    const queued = await world.sessions.startOrQueue('alice');
    expect(queued).toMatchObject({status: 'queued', queue_position: 1, waiting_for: 'MIG 1c.2g.10gb'});
    // Stopping it again takes it out of the line; queued again, the rm of bob starts it.
    expect(await world.sessions.stop('alice')).toMatchObject({
      already: true,
      note: 'its queued start left the line',
    });
    expect((await world.store.read()).queue ?? []).toEqual([]);
    await world.sessions.startOrQueue('alice');
    await world.sessions.remove(['bob']);
    expect(await record(world, 'alice')).toMatchObject({status: 'running'});
    expect((await world.store.read()).queue ?? []).toEqual([]);
  });

  it('holds the device for gpuHoldAfterStop: a start then gets it back; after it, reap frees it', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100(), settings: {gpuHoldAfterStop: '15m'}});
    const alice = await world.sessions.create(slice('alice'));
    expect((await world.sessions.stop('alice')).gpu_freed).toBeNull();
    const bob = await world.sessions.create(slice('bob'));
    expect(bob.gpu_uuid).not.toBe(alice.gpu_uuid);
    world.clock.advance(16 * 60_000);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([
      expect.objectContaining({action: 'tidy-stopped', user: 'alice', result: 'done'}),
    ]);
    expect((await record(world, 'alice')).gpu_uuid).toBeNull();
  });

  it('a start that fails on the new device leaves one container, no image, no device, and the session stopped', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    await world.sessions.create(slice('alice'));
    await world.sessions.stop('alice');
    await world.sessions.create(slice('bob'));
    const containersBefore = [...world.docker.containers.keys()];
    world.sshProbe.answers = false;
    const error = await world.sessions.start('alice').catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/SSH did not answer/);
    expect([...world.docker.containers.keys()]).toEqual(containersBefore);
    expect(world.docker.commits).toHaveLength(1);
    expect(world.docker.images.has(world.docker.commits[0]!)).toBe(false);
    expect(await record(world, 'alice')).toMatchObject({
      status: 'stopped',
      gpu_uuid: null,
      starter_pid: null,
    });
  });

  it('reap clears what a start killed half-way left: its second container, its image and its device', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    await world.sessions.create(slice('alice'));
    await world.sessions.stop('alice');
    const bob = await world.sessions.create(slice('bob'));
    const stopped = await record(world, 'alice');
    // What a start killed (SIGKILL: no undo) after its new container started leaves behind: a
    // device reserved, the image named, a second container of the session.
    const image = `sandman-session/${stopped.id}:killed`;
    world.docker.images.add(image);
    const oldSpec = world.docker.containers.get(stopped.container_id!)!.spec;
    const second = await world.docker.createContainer({...oldSpec, name: `${oldSpec.name}-new`, image});
    const free = (await world.gpuService.available()).devices.find((device) => device.uuid !== bob.gpu_uuid)!;
    await world.store.update((state) => {
      const session = state.sessions.find((candidate) => candidate.id === stopped.id)!;
      Object.assign(session, {
        starter_pid: 4242,
        start_image: image,
        gpu_uuid: free.uuid,
        gpu_index: 0,
        mig_profile: '1c.2g.10gb',
      });
    });
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([
      expect.objectContaining({action: 'tidy-stopped', user: 'alice', result: 'done'}),
    ]);
    expect(world.docker.containers.has(second)).toBe(false);
    expect(world.docker.containers.has(stopped.container_id!)).toBe(true);
    expect(world.docker.images.has(image)).toBe(false);
    expect(await record(world, 'alice')).toMatchObject({
      status: 'stopped',
      gpu_uuid: null,
      starter_pid: null,
    });
  });

  it('extend refuses a stopped session; the reaper stops an idle one (idleAction stop) and removes it with idleAction remove', async () => {
    const world = fakeWorld({settings: {idleTimeout: '10m'}});
    await world.sessions.create({...slice('alice'), gpu: {kind: 'none'}});
    // The timer's first reap sets the CPU baseline; the one after the timeout finds it idle.
    world.clock.advance(60_000);
    await world.reaper.run({dryRun: false});
    world.clock.advance(10 * 60_000);
    const report = await world.reaper.run({dryRun: false});
    expect(report.items).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'alice'}),
    ]);
    expect((await record(world, 'alice')).status).toBe('stopped');
    const extend = await world.sessions.extend('alice', '1h').catch((caught: unknown) => caught);
    expect(isSandmanError(extend) && extend.kind).toBe('CONFLICT');

    const removing = fakeWorld({settings: {idleTimeout: '10m', idleAction: 'remove'}});
    await removing.sessions.create({...slice('bob'), gpu: {kind: 'none'}});
    removing.clock.advance(60_000);
    await removing.reaper.run({dryRun: false});
    removing.clock.advance(10 * 60_000);
    expect((await removing.reaper.run({dryRun: false})).items).toEqual([
      expect.objectContaining({action: 'remove-session', reason: 'idle', user: 'bob'}),
    ]);
    expect((await removing.store.read()).sessions).toEqual([]);
  });

  it('a stopped session gives its place under maxSessions back; starting past it is exit 5', async () => {
    const world = fakeWorld({settings: {maxSessions: 1}});
    await world.sessions.create({...slice('alice'), gpu: {kind: 'none'}});
    await world.sessions.stop('alice');
    await world.sessions.create({...slice('bob'), gpu: {kind: 'none'}});
    const error = await world.sessions.start('alice').catch((caught: unknown) => caught);
    expect(isSandmanError(error) && error.kind).toBe('CAPACITY');
    expect((await record(world, 'alice')).status).toBe('stopped');
  });
});

describe('session start: a container that dies at once', () => {
  it('fails as soon as the container has exited, with its last output, not after readyTimeout; the session stays stopped', async () => {
    const world = fakeWorld({settings: {readyTimeout: '10m'}});
    await world.sessions.create(slice('alice', {gpu: {kind: 'none'}}));
    await world.sessions.stop('alice');
    // Its sshd never answers: the container exits as it starts.
    world.docker.exitsAtStart = ['sshd: no hostkeys available -- exiting.'];
    world.sshProbe.answers = false;
    const failure = await world.sessions.start('alice').catch((error: unknown) => error);
    expect(isSandmanError(failure) && failure.exitCode).toBe(1);
    expect((failure as Error).message).toMatch(
      /^container sandman-alice-\w+ exited with code 1 before SSH was ready; its last output: sshd: no hostkeys available -- exiting\.$/,
    );
    expect(await record(world, 'alice')).toMatchObject({status: 'stopped', starter_pid: null});
  });
});
