import {describe, expect, it} from 'vitest';

import {isSandmanError} from '../../src/core/errors.js';
import type {GpuChoice} from '../../src/gpu/gpu-allocator.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';

/** GPU selection end to end (create → allocator → nvidia-smi → state), on replayed captures. */
const create = (world: World, user: string, gpu: GpuChoice) =>
  world.sessions.create({user, gpu, password: false, env: [], wait: true});

async function failure(work: Promise<unknown>): Promise<{code: number; message: string}> {
  try {
    await work;
  } catch (error) {
    if (isSandmanError(error)) return {code: error.exitCode, message: error.message};
    throw error;
  }
  throw new Error('expected a failure');
}

describe('GPUs through session create', () => {
  it('pool mode on the replayed A100: the one free 1g.5gb device, then capacity (5), then free again', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const bob = await create(world, 'bob', {kind: 'profile', profile: '1g.5gb'});
    expect(bob.gpu_uuid).toBe('MIG-20301a31-77fa-59ec-b0b8-7ef543821f29');
    const [container] = world.docker.containers.values();
    expect(container?.spec.gpuUuid).toBe('MIG-20301a31-77fa-59ec-b0b8-7ef543821f29');
    const full = await failure(create(world, 'carol', {kind: 'profile', profile: '1g.5gb'}));
    expect(full.code).toBe(5);
    expect((await world.store.read()).sessions.map((session) => session.user)).toEqual(['bob']);
    expect((await world.gpuService.available()).devices.map((device) => device.uuid)).not.toContain(
      bob.gpu_uuid,
    );
    await world.sessions.remove(['bob']);
    expect((await world.gpuService.available()).devices.map((device) => device.uuid)).toContain(bob.gpu_uuid);
    expect(world.smi.calls).toEqual([]);
  });

  it('the same device asked for twice by UUID: held (4); an unknown profile: invalid (2)', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100()});
    const uuid = 'MIG-c42101f0-a1fa-5b68-8908-7c5c887f28bd';
    await create(world, 'alice', {kind: 'mig-instance', uuid});
    expect((await failure(create(world, 'bob', {kind: 'mig-instance', uuid}))).code).toBe(4);
    expect((await failure(create(world, 'carol', {kind: 'profile', profile: '9g.99gb'}))).code).toBe(2);
  });

  it('whole GPUs on eight RTX PRO 6000: eight distinct devices, the ninth is capacity (5)', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.rtxPro6000x8()});
    const uuids = new Set<string>();
    for (let index = 0; index < 8; index++) {
      uuids.add((await create(world, `user${index}`, {kind: 'default'})).gpu_uuid!);
    }
    expect(uuids.size).toBe(8);
    expect((await failure(create(world, 'user8', {kind: 'default'}))).code).toBe(5);
  });

  it('dynamic mode makes a MIG device and destroys exactly that one when the session ends', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.a100(), settings: {migMode: 'dynamic'}});
    const session = await create(world, 'dora', {kind: 'profile', profile: '3g.20gb'});
    expect(world.smi.calls).toEqual(['mig -i 0 -cgi 3g.20gb -C']);
    const [record] = (await world.store.read()).sessions;
    expect(record).toMatchObject({gpu_uuid: session.gpu_uuid, mig_created: true, mig_gpu_instance: 101});
    await world.sessions.remove(['dora']);
    expect(world.smi.calls).toEqual(['mig -i 0 -cgi 3g.20gb -C', 'mig -i 0 -gi 101 -ci 0 -dci']);
    expect((await world.smi.list())[0]?.migDevices.map((device) => device.uuid)).not.toContain(
      session.gpu_uuid,
    );
  });

  it('without nvidia-smi: the default gives no GPU and says so; asking for one is exit 6', async () => {
    const world = fakeWorld({smi: FakeNvidiaSmi.absent()});
    const session = await create(world, 'alice', {kind: 'default'});
    expect(session.gpu_uuid).toBeNull();
    expect(session.gpu_note).toBe('no nvidia-smi on this host');
    expect((await failure(create(world, 'bob', {kind: 'profile', profile: '1g.5gb'}))).code).toBe(6);
  });
});
