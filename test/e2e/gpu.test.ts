import {readFile} from 'node:fs/promises';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {devicesSeenByHook, fakeGpuEnv, nvidiaSmiCalls} from '../helpers/fake-gpu.js';
import {createSandbox, sshRun, type Sandbox} from '../helpers/sandbox.js';

interface Created {
  session_id: string;
  container_id: string;
  ssh_port: number;
  ssh_private_key_path: string;
  gpu_uuid: string | null;
  mig_profile: string | null;
  gpu_note?: string;
}
interface ErrorBody {
  error: {code: string; message: string; exit_code: number};
}
interface Available {
  devices: Array<{uuid: string; profile: string | null}>;
  creatable: Array<{profile: string; count: number}>;
}

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 32_200});
});
afterAll(async () => {
  await sandbox.cleanup();
});

async function deviceRequests(containerId: string) {
  const inspect = JSON.parse((await execa('docker', ['inspect', containerId])).stdout)[0];
  return inspect.HostConfig.DeviceRequests;
}

describe('gpu commands on replayed hosts', () => {
  it('gpu ls shows the real figures of an H100 in MIG mode, [N/A] as null', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'h100-mig-masked');
    const {exitCode, body} = await sandbox.json<Array<Record<string, unknown>>>(['gpu', 'ls'], {env});
    expect(exitCode).toBe(0);
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      memory_total_mib: 81559,
      memory_used_mib: 59,
      memory_free_mib: 81022,
      utilization_percent: null,
      temperature_c: 42,
      power_draw_w: 71.15,
      power_limit_w: 700,
      mig_mode: 'Enabled',
    });
    expect((body[0]!.mig_devices as Array<{profile: string}>).map((d) => d.profile)).toEqual([
      '3g.40gb',
      '2g.20gb',
      '1g.10gb',
      '1g.10gb',
    ]);
    const table = await sandbox.run(['gpu', 'ls'], {env});
    expect(table.stdout).toMatch(
      /^0\s+NVIDIA H100 80GB HBM3\s+59\/81559 MiB\s+-\s+42C\s+71\.15\/700 W\s+Enabled/m,
    );
  });

  it('gpu profiles gives memory, slices and free/total from mig -lgip', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
    const {body} = await sandbox.json<Array<Record<string, unknown>>>(['gpu', 'profiles'], {env});
    expect(body.find((p) => p.profile === '1g.5gb+me')).toMatchObject({
      profile_id: 20,
      memory_gib: 4.75,
      slices: 1,
      instances_total: 1,
    });
    expect(body.find((p) => p.profile === '1g.5gb')).toMatchObject({
      devices_free: 1,
      devices_total: 1,
      instances_free: 0,
      instances_total: 7,
    });
    expect(body.find((p) => p.profile === '7g.40gb')).toMatchObject({memory_gib: 39.38, slices: 7});
  });

  it('gpu profiles on a host without nvidia-smi: none, not an error (gpu ls and available: monitoring-api)', async () => {
    expect(await sandbox.json(['gpu', 'profiles'])).toMatchObject({exitCode: 0, body: []});
  });

  it('session create on a host without nvidia-smi gives no GPU and says so; asking for one is exit 6', async () => {
    const created = await sandbox.json<Created>(['session', 'create', 'nogpu', '--no-wait']);
    expect(created.exitCode).toBe(0);
    expect(created.body.gpu_uuid).toBeNull();
    expect(created.body.gpu_note).toBe('no nvidia-smi on this host');
    expect((await sandbox.run(['session', 'rm', 'nogpu'])).exitCode).toBe(0);
    const human = await sandbox.run(['session', 'create', 'nogpu', '--no-wait']);
    expect(human.stdout).toContain('GPU  none (no nvidia-smi on this host)');
    expect((await sandbox.run(['session', 'rm', 'nogpu'])).exitCode).toBe(0);

    const asked = await sandbox.json<ErrorBody>(['session', 'create', 'nogpu', '--profile', '1g.5gb']);
    expect(asked.exitCode).toBe(6);
    expect(await sandbox.containers()).toEqual([]);
  });
});

describe('MIG pool on a replayed A100 (1g.5gb is the host’s small profile)', () => {
  const env = () => fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
  const slice = 'MIG-20301a31-77fa-59ec-b0b8-7ef543821f29';

  it('gives bob that MIG device through a real NVIDIA device request, then hands it back on rm', async () => {
    const created = await sandbox.json<Created>(['session', 'create', 'bob', '--profile', '1g.5gb'], {
      env: env(),
    });
    expect(created.exitCode).toBe(0);
    expect(created.body).toMatchObject({gpu_uuid: slice, mig_profile: '1g.5gb'});
    expect(await deviceRequests(created.body.container_id)).toEqual([
      expect.objectContaining({DeviceIDs: [slice], Capabilities: [['gpu']]}),
    ]);
    expect(await devicesSeenByHook(created.body.container_id)).toBe(slice);
    const motd = await sshRun(
      created.body.ssh_private_key_path,
      created.body.ssh_port,
      'bob',
      'cat /etc/motd',
    );
    expect(motd.stdout).toContain(`GPU      MIG 1g.5gb  ${slice}`);

    const available = await sandbox.json<Available>(['gpu', 'available'], {env: env()});
    expect(available.body.devices.map((d) => d.uuid)).not.toContain(slice);
    expect(available.body.devices).toHaveLength(3);
    const listed = await sandbox.json<
      Array<{mig_devices: Array<{uuid: string; session_user: string | null}>}>
    >(['gpu', 'ls'], {env: env()});
    expect(listed.body[0]!.mig_devices.find((d) => d.uuid === slice)!.session_user).toBe('bob');

    // Every 1g.5gb device is held now: exit 5, listing what is free, nothing created.
    const full = await sandbox.json<ErrorBody>(['session', 'create', 'carl', '--profile', '1g.5gb'], {
      env: env(),
    });
    expect(full.exitCode).toBe(5);
    expect(full.body.error.message).toContain('no free 1g.5gb MIG device');
    expect(full.body.error.message).toContain('MIG-c42101f0-a1fa-5b68-8908-7c5c887f28bd');
    // The same device by UUID: exit 4.
    const taken = await sandbox.json<ErrorBody>(['session', 'create', 'carl', '--mig-instance', slice], {
      env: env(),
    });
    expect(taken.exitCode).toBe(4);
    expect(await sandbox.containers()).toHaveLength(1);

    expect((await sandbox.run(['session', 'rm', 'bob'], {env: env()})).exitCode).toBe(0);
    const after = await sandbox.json<Available>(['gpu', 'available'], {env: env()});
    expect(after.body.devices.map((d) => d.uuid)).toContain(slice);
    // Pool mode never creates or destroys MIG devices.
    const calls = await nvidiaSmiCalls(sandbox.dir, 'a100-mig-r580');
    expect(calls.filter((call) => /-cgi|-dci|-dgi/.test(call))).toEqual([]);
  });

  it('takes a device by --mig-instance, refuses unknown devices (3) and profiles (2)', async () => {
    const uuid = 'MIG-8970491e-16e0-5140-9f8f-d561baa3c186';
    const created = await sandbox.json<Created>(
      ['session', 'create', 'dana', '--mig-instance', uuid, '--no-wait'],
      {env: env()},
    );
    expect(created.body).toMatchObject({gpu_uuid: uuid, mig_profile: '1c.2g.10gb'});
    expect((await sandbox.run(['session', 'rm', 'dana'], {env: env()})).exitCode).toBe(0);

    const unknown = await sandbox.json<ErrorBody>(
      ['session', 'create', 'dana', '--mig-instance', 'MIG-00000000-dead-beef-0000-000000000000'],
      {env: env()},
    );
    expect(unknown.exitCode).toBe(3);
    const badProfile = await sandbox.json<ErrorBody>(['session', 'create', 'dana', '--profile', '3g.40gb'], {
      env: env(),
    });
    expect(badProfile.exitCode).toBe(2);
    expect(badProfile.body.error.message).toMatch(
      /unknown MIG profile "3g.40gb"; valid profiles here: 1g.5gb, 1g.5gb\+me/,
    );
    expect(await sandbox.containers()).toEqual([]);
  });
});

describe('whole GPUs on a replayed 8x RTX PRO 6000 host with MIG off', () => {
  const env = () => fakeGpuEnv(sandbox.dir, 'rtx-pro-6000-x8-no-mig');

  it('gives --gpu by index, the default takes a free one, and a held GPU is exit 4', async () => {
    const third = await sandbox.json<Created>(['session', 'create', 'erin', '--gpu', '3', '--no-wait'], {
      env: env(),
    });
    expect(third.exitCode).toBe(0);
    expect(third.body).toMatchObject({
      gpu_uuid: 'GPU-30512c46-708b-f374-5698-ee24be6cd626',
      mig_profile: null,
    });
    expect(await deviceRequests(third.body.container_id)).toEqual([
      expect.objectContaining({DeviceIDs: ['GPU-30512c46-708b-f374-5698-ee24be6cd626']}),
    ]);
    const again = await sandbox.json<ErrorBody>(
      ['session', 'create', 'fred', '--gpu', 'GPU-30512c46-708b-f374-5698-ee24be6cd626'],
      {env: env()},
    );
    expect(again.exitCode).toBe(4);
    const byDefault = await sandbox.json<Created>(['session', 'create', 'fred', '--no-wait'], {env: env()});
    expect(byDefault.body.gpu_uuid).toBe('GPU-8b89b58e-b427-108d-ac50-06138d78fe78');
    const profile = await sandbox.json<ErrorBody>(['session', 'create', 'gina', '--profile', '1g.24gb'], {
      env: env(),
    });
    expect(profile.exitCode).toBe(2);
    expect((await sandbox.run(['session', 'rm', 'erin', 'fred'], {env: env()})).exitCode).toBe(0);
  });
});

describe('dynamic MIG on a replayed A100 with one 4g.20gb instance made by hand', () => {
  const host = 'a100-dynamic-r580';
  const env = (extra: Record<string, string> = {}) =>
    fakeGpuEnv(sandbox.dir, host, {SANDMAN_MIG_MODE: 'dynamic', ...extra});

  it('creates a 3g.20gb device for the session and destroys only that one on rm', async () => {
    const before = await sandbox.json<Available>(['gpu', 'available'], {env: env()});
    expect(before.body.creatable).toContainEqual(expect.objectContaining({profile: '3g.20gb', count: 1}));

    const created = await sandbox.json<Created>(['session', 'create', 'hank', '--profile', '3g.20gb'], {
      env: env(),
    });
    expect(created.exitCode).toBe(0);
    expect(created.body.mig_profile).toBe('3g.20gb');
    expect(created.body.gpu_uuid).toMatch(/^MIG-[0-9a-f-]{36}$/);
    expect(await devicesSeenByHook(created.body.container_id)).toBe(created.body.gpu_uuid);
    const record = JSON.parse(await readFile(sandbox.stateFile, 'utf8')).sessions[0];
    expect(record).toMatchObject({mig_created: true, mig_gpu_instance: 1, mig_compute_instance: 0});

    // No room for a second one.
    const full = await sandbox.json<ErrorBody>(['session', 'create', 'ivy', '--profile', '3g.20gb'], {
      env: env(),
    });
    expect(full.exitCode).toBe(5);

    expect((await sandbox.run(['session', 'rm', 'hank'], {env: env()})).exitCode).toBe(0);
    const calls = await nvidiaSmiCalls(sandbox.dir, host);
    expect(calls.filter((call) => /-cgi|-dci|-dgi/.test(call))).toEqual([
      'mig -i 0 -cgi 3g.20gb -C',
      'mig -i 0 -gi 1 -ci 0 -dci',
      'mig -i 0 -gi 1 -dgi',
    ]);
    const listed = await sandbox.json<Array<{mig_devices: Array<{uuid: string}>}>>(['gpu', 'ls'], {
      env: env(),
    });
    expect(listed.body[0]!.mig_devices.map((d) => d.uuid)).toEqual([
      'MIG-c42101f0-a1fa-5b68-8908-7c5c887f28bd',
    ]);
  });

  it.each([
    ['gh200_mig-cgi-C_error-in-use.txt', 4, 'In use by another client'],
    ['gh200_mig-cgi-C_error-insufficient-resources.txt', 5, 'Insufficient Resources'],
  ])('turns nvidia-smi’s %s into exit %d, leaving nothing behind', async (capture, exitCode, words) => {
    const result = await sandbox.json<ErrorBody>(['session', 'create', 'jill', '--profile', '1g.5gb'], {
      env: env({SANDMAN_FAKE_GPU_CGI_ERROR: capture}),
    });
    expect(result.exitCode).toBe(exitCode);
    expect(result.body.error.message).toContain(words);
    expect(await sandbox.containers()).toEqual([]);
    expect(JSON.parse(await readFile(sandbox.stateFile, 'utf8')).sessions).toEqual([]);
  });
});
