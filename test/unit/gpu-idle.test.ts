import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {loadConfig} from '../../src/config/config.js';
import {gpuIdleVerdict, nextGpuTrack, sessionGpuVerdict} from '../../src/gpu/gpu-idle-verdict.js';
import {migInstanceOf} from '../../src/gpu/mig-instance-of.js';
import {dcgmUtilization, parsePrometheusText} from '../../src/gpu/parse-dcgm-metrics.js';
import {parseGpuList} from '../../src/gpu/parse-list.js';
import {parseGpuInstances} from '../../src/gpu/parse-mig-tables.js';
import {parseQueryGpu, UTILIZATION_FIELDS} from '../../src/gpu/parse-query-gpu.js';
import type {CreateRequest} from '../../src/session/session-service.js';
import {checkGpuIdleness} from '../../src/setup/gpu-idle-check.js';
import {FakeNvidiaSmi} from '../fakes/fake-nvidia-smi.js';
import {fakeWorld, type World} from '../fakes/world.js';
import {ROOT} from '../helpers/constants.js';

const capture = (dir: string, name: string) =>
  readFileSync(path.join(ROOT, 'test/fixtures', dir, name), 'utf8');
const smiCapture = (name: string) => capture('nvidia-smi', name);
const dcgmPage = () =>
  capture('dcgm-exporter', 'a800-x8-mig-3x2g.20gb_dcgm-exporter_gpu-util.txt') +
  capture('dcgm-exporter', 'a800-x8-mig-3x2g.20gb_dcgm-exporter_gr-engine-active.txt');

describe('utilisation parsers on real captures', () => {
  it('reads utilization.gpu with units and a header (4 GPUs, one at 98 %)', () => {
    const rows = parseQueryGpu(smiCapture('4gpu_query-gpu-index-uuid-util-memused_units.csv'));
    expect(rows.map((row) => [row.index, row.uuid, row.utilizationPercent, row.memoryUsedMiB])).toEqual([
      [0, 'GPU-e82ab913-2d6b-1a55-89a8-9ad23a5a09cf', 0, 529],
      [1, 'GPU-4eac38f2-1a70-662a-f6f4-9b62d1778ef4', 0, 5],
      [2, 'GPU-f7c1496c-b7f5-b1d2-78ea-68826f778059', 98, 74709],
      [3, 'GPU-cfd9ce0a-b7af-895a-f54c-4f175b610977', 0, 567],
    ]);
  });

  it('reads noheader,nounits rows by the asked field order (8x A800, GPU 5 at 100 %)', () => {
    const fields = [
      ...UTILIZATION_FIELDS,
      'memory.total',
      'memory.used',
      'memory.free',
      'driver_version',
      'name',
      'serial',
      'display_active',
      'display_mode',
      'temperature.gpu',
      'timestamp',
    ];
    const rows = parseQueryGpu(smiCapture('a800-x8_query-gpu-index-uuid-util_noheader-nounits.csv'), fields);
    expect(rows).toHaveLength(8);
    expect(rows.map((row) => row.utilizationPercent)).toEqual([0, 0, 0, 0, 0, 100, 0, 0]);
    expect(rows[5]).toMatchObject({
      index: 5,
      uuid: 'GPU-67fc57fc-34ad-4126-2f66-0b8d29144c75',
      memoryUsedMiB: 74745,
    });
  });

  it('reads [N/A] as no value: a GPU in MIG mode has no utilization.gpu (H100 capture)', () => {
    const [row] = parseQueryGpu(smiCapture('h100-80gb-mig_query-gpu-all-fields.csv'));
    expect(row!.utilizationPercent).toBeNull();
  });

  it('reads the dcgm-exporter page of an A800 host with MIG: per GPU instance GR_ENGINE_ACTIVE, GPU_UTIL for whole GPUs', () => {
    const samples = parsePrometheusText(dcgmPage());
    expect(samples).toHaveLength(17);
    expect(samples[7]).toEqual({
      name: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
      labels: {
        gpu: '0',
        UUID: 'GPU-1f027ee8-6e1e-2b8c-0108-3d370e5f0418',
        device: 'nvidia0',
        modelName: 'NVIDIA A800-SXM4-80GB',
        GPU_I_PROFILE: '2g.20gb',
        GPU_I_ID: '3',
        Hostname: 'msxf-hpc-64-35-ai',
        DCGM_FI_DRIVER_VERSION: '535.129.03',
        DCGM_FI_PROCESS_NAME: '/usr/bin/dcgm-exporter',
      },
      value: 0,
    });
    const devices = dcgmUtilization(samples);
    // Three MIG instances on GPU 0 (GR_ENGINE_ACTIVE only: no GPU_UTIL series for them) and 7 whole GPUs.
    expect(devices.filter((device) => device.gpuInstanceId !== null)).toEqual(
      [3, 5, 6].map((gi) => ({
        gpuIndex: 0,
        gpuUuid: 'GPU-1f027ee8-6e1e-2b8c-0108-3d370e5f0418',
        gpuInstanceId: gi,
        profile: '2g.20gb',
        percent: 0,
        metric: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
      })),
    );
    expect(devices.filter((device) => device.gpuInstanceId === null)).toHaveLength(7);
    // A busier engine reads as a percent: 0.42 of the time active is 42 %.
    const busy = dcgmPage().replace(/(GPU_I_ID="5",[^}]*\}) 0\.000000/, '$1 0.420000');
    expect(
      dcgmUtilization(parsePrometheusText(busy)).find((d) => d.gpuInstanceId === 5)!.percent,
    ).toBeCloseTo(42);
  });

  it('refuses what is not a metrics page rather than read it as no samples', () => {
    expect(() => parsePrometheusText('<html><body>502 Bad Gateway</body></html>\n')).toThrow(
      /line 1 is not a Prometheus sample/,
    );
    expect(() => parsePrometheusText('DCGM_FI_DEV_GPU_UTIL{gpu="0} 1\n')).toThrow(/not closed/);
    expect(parsePrometheusText('a{b="x\\"y"} 1 1700000000000\n')).toEqual([
      {name: 'a', labels: {b: 'x"y'}, value: 1},
    ]);
  });

  it('finds the GPU instance of a pool MIG device from -L and -lgi (A100 r580 captures)', () => {
    const list = parseGpuList(smiCapture('a100-40gb_list-L_mig-ci_r580.txt'));
    const instances = parseGpuInstances(smiCapture('a100-40gb_mig-lgi_r580.txt'));
    const gi = (uuid: string) => migInstanceOf(uuid, list, instances)?.gpuInstanceId;
    expect(gi('MIG-c42101f0-a1fa-5b68-8908-7c5c887f28bd')).toBe(2); // 4g.20gb
    expect(gi('MIG-8970491e-16e0-5140-9f8f-d561baa3c186')).toBe(3); // 1c.2g.10gb
    expect(gi('MIG-20301a31-77fa-59ec-b0b8-7ef543821f29')).toBe(9); // 1g.5gb
    expect(gi('MIG-00000000-0000-0000-0000-000000000000')).toBeUndefined();
    // The old UUID form names its GI itself.
    const old = parseGpuList(smiCapture('a100-40gb_list-L_mig-old-uuid-mixed.txt'));
    const device = old[0]!.migDevices[0]!;
    expect(migInstanceOf(device.uuid, old, [])?.gpuInstanceId).toBe(device.gpuInstanceId);
  });
});

describe('the GPU idle verdict', () => {
  const t0 = Date.parse('2026-12-07T10:00:00Z');
  const hour = 3_600_000;
  const limits = {threshold: 5, windowMs: 2 * hour};
  const run = (percents: number[], step = 60_000, ssh: number[] = [], threshold = limits.threshold) => {
    let track = null as ReturnType<typeof nextGpuTrack>;
    percents.forEach((percent, i) => {
      track = nextGpuTrack(
        track,
        {percent, source: 'nvidia-smi'},
        t0 + i * step,
        threshold,
        ssh.includes(i),
        100,
      );
    });
    return track;
  };

  it('is idle once every sample over the window was under the threshold, and says when the stop comes before that', () => {
    const below = gpuIdleVerdict({gpu_util: run([0, 1, 4.5])}, limits, t0 + 2 * 60_000);
    expect(below).toMatchObject({
      state: 'below',
      below_since: '2026-12-07T10:00:00Z',
      below_max: 4.5,
      idle_at: '2026-12-07T12:00:00Z',
    });
    expect(below.text).toBe(
      'GPU under 5 % since 2026-12-07 10:00:00 UTC (2m; max 4.5 %, last 4.5 % at 2026-12-07 10:02:00 UTC (nvidia-smi)): idle stop at 2026-12-07 12:00:00 UTC',
    );
    const track = run(Array.from({length: 121}, () => 0));
    expect(gpuIdleVerdict({gpu_util: track}, limits, t0 + 120 * 60_000).state).toBe('idle');
  });

  it('a sample at or over the threshold starts the count again', () => {
    const track = run([0, 0, 40, 0]);
    expect(track).toMatchObject({last: 0, below_since: '2026-12-07T10:03:00Z', below_max: 0});
    expect(gpuIdleVerdict({gpu_util: run([0, 40])}, limits, t0 + 60_000)).toMatchObject({
      state: 'active',
      idle_at: null,
    });
  });

  it('keep_until in the future and SSH activity put the stop off', () => {
    const track = run(Array.from({length: 121}, () => 0));
    const now = t0 + 120 * 60_000;
    const kept = gpuIdleVerdict({gpu_util: track, keep_until: '2026-12-07T15:00:00Z'}, limits, now);
    expect(kept).toMatchObject({state: 'below', held_by: 'keep', idle_at: '2026-12-07T15:00:00Z'});
    const ssh = run(
      Array.from({length: 121}, () => 0),
      60_000,
      [90],
    );
    expect(gpuIdleVerdict({gpu_util: ssh}, limits, now)).toMatchObject({
      state: 'below',
      held_by: 'ssh',
      idle_at: '2026-12-07T13:30:00Z',
    });
  });

  it('no sample, a long gap, a restarted container or a window of 0 give no idle verdict', () => {
    expect(gpuIdleVerdict({gpu_util: null}, limits, t0).state).toBe('no-sample');
    const track = run([0]);
    expect(nextGpuTrack(track, undefined, t0 + 60_000, 5, false, 100)).toEqual(track);
    expect(gpuIdleVerdict({gpu_util: track}, limits, t0 + 16 * 60_000).state).toBe('no-sample');
    const after = nextGpuTrack(track, {percent: 0, source: 'nvidia-smi'}, t0 + 20 * 60_000, 5, false, 100);
    expect(after!.below_since).toBe('2026-12-07T10:20:00Z');
    const restarted = nextGpuTrack(track, {percent: 0, source: 'nvidia-smi'}, t0 + 60_000, 5, false, 200);
    expect(restarted!.below_since).toBe('2026-12-07T10:01:00Z');
    expect(gpuIdleVerdict({gpu_util: track}, {threshold: 5, windowMs: 0}, t0).state).toBe('off');
  });

  it('takes threshold and window per user, then group, then setting', () => {
    const config = loadConfig({
      env: {},
      readFile: () =>
        JSON.stringify({
          stateFile: '/fake/state.json',
          idleGpuWindow: '4h',
          groups: {students: {idleGpuWindow: '1h', idleGpuThreshold: 10}},
        }),
    });
    const session = {
      user: 'stu',
      gpu_util: run(
        Array.from({length: 61}, () => 8),
        60_000,
        [],
        10,
      ),
    } as never;
    const now = t0 + 60 * 60_000;
    expect(sessionGpuVerdict(config, {users: {stu: {uid: 1, group: 'students'}}}, session, now).state).toBe(
      'idle',
    );
    expect(sessionGpuVerdict(config, {users: {stu: {uid: 1}}}, session, now).state).toBe('active');
    const own = {stu: {uid: 1, group: 'students', limits: {idleGpuWindow: '3h'}}};
    expect(sessionGpuVerdict(config, {users: own}, session, now)).toMatchObject({
      state: 'below',
      window_ms: 3 * hour,
    });
    expect(() =>
      loadConfig({env: {}, readFile: () => JSON.stringify({groups: {a: {idleGpuThreshold: 120}}})}),
    ).toThrow(/idleGpuThreshold: must be a percentage from 0 to 100/);
  });
});

describe('the reaper stops sessions whose GPU is idle', () => {
  const wholeGpu = (user: string): CreateRequest => ({
    user,
    gpu: {kind: 'gpu', ref: 'any'},
    password: false,
    env: [],
    wait: true,
    ttl: '1d',
  });
  const record = async (world: World, user: string) =>
    (await world.store.read()).sessions.find((session) => session.user === user)!;
  const reap = async (world: World) => (await world.reaper.run({dryRun: false})).items;

  it('stops a session at 0 % for the window, processes on its GPU or not, keeps one at 40 %; the audit line has the numbers', async () => {
    const smi = FakeNvidiaSmi.rtxPro6000x8();
    const world = fakeWorld({smi, settings: {idleGpuWindow: '2h'}});
    const idle = await world.sessions.create(wholeGpu('idle'));
    const busy = await world.sessions.create(wholeGpu('busy'));
    smi.utilizationByUuid.set(idle.gpu_uuid!, 0);
    smi.utilizationByUuid.set(busy.gpu_uuid!, 40);
    // A CUDA process holds the idle GPU: the process rule would keep it; the GPU rule does not.
    smi.computePids = [(await world.docker.runningPid(idle.container_id!))!];
    for (let minute = 0; minute < 120; minute++) {
      expect(await reap(world)).toEqual([]);
      world.clock.advance(60_000);
    }
    const items = await reap(world);
    expect(items).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'idle', result: 'done'}),
    ]);
    expect(items[0]!.detail).toMatch(
      /^GPU under 5 % since 2026-11-24 12:00:00 UTC \(2h; max 0 %, last 0 % at 2026-11-24 14:00:00 UTC \(nvidia-smi\)\): idle for idleGpuWindow 2h; GPU GPU-\S+ freed$/,
    );
    expect(world.audit.at(-1)).toMatchObject({
      action: 'reap',
      user: 'idle',
      reason: `idle: ${items[0]!.detail}`,
    });
    expect((await record(world, 'idle')).status).toBe('stopped');
    expect(await record(world, 'busy')).toMatchObject({
      status: 'running',
      gpu_util: {last: 40, below_since: null},
    });
  });

  it('keep_until in the future and an SSH connection keep a session at 0 %', async () => {
    const smi = FakeNvidiaSmi.rtxPro6000x8();
    const world = fakeWorld({smi, settings: {idleGpuWindow: '1h'}});
    const kept = await world.sessions.create(wholeGpu('kept'));
    smi.utilizationByUuid.set(kept.gpu_uuid!, 0);
    await world.store.update((state) => {
      state.sessions[0]!.keep_until = '2026-11-24T15:00:00Z';
    });
    // One reap a minute, as the timer runs it: what each did, by minute.
    const minutes = async (count: number) => {
      const done: string[] = [];
      for (let minute = 0; minute < count; minute++) {
        world.clock.advance(60_000);
        for (const item of await reap(world)) done.push(`${item.action} ${item.user}`);
      }
      return done;
    };
    // Created at 12:00, at 0 % from then; kept until 15:00.
    expect(await minutes(170)).toEqual([]);
    // An SSH connection at 14:50 counts as activity: the hour starts again from there.
    world.sshConnections.connections = 1;
    expect(await minutes(1)).toEqual([]);
    world.sshConnections.connections = 0;
    expect(await minutes(59)).toEqual([]);
    expect(await minutes(1)).toEqual(['stop-session kept']);
  });

  it('reads a MIG device from dcgm-exporter by GPU index and GPU instance; without it, no sample and a failure never fails the reap', async () => {
    let page = '';
    const world = fakeWorld({
      smi: FakeNvidiaSmi.a100(),
      settings: {idleGpuWindow: '10m'},
      dcgm: {metrics: async () => page},
    });
    const slice = (user: string, profile: string): CreateRequest => ({
      ...wholeGpu(user),
      gpu: {kind: 'profile', profile},
    });
    await world.sessions.create(slice('small', '1g.5gb'));
    await world.sessions.create(slice('large', '4g.20gb'));
    // The captured A800 page, its three MIG series moved to this A100's GPU instances 9 and 2.
    const captured = capture('dcgm-exporter', 'a800-x8-mig-3x2g.20gb_dcgm-exporter_gr-engine-active.txt');
    const line = captured.split('\n').find((text) => text.includes('GPU_I_ID="3"'))!;
    const series = (gi: number, profile: string, value: string) =>
      line
        .replace('GPU-1f027ee8-6e1e-2b8c-0108-3d370e5f0418', 'GPU-9e4aeb94-01c0-5173-4811-4ca60f77b3a9')
        .replace('GPU_I_PROFILE="2g.20gb",GPU_I_ID="3"', `GPU_I_PROFILE="${profile}",GPU_I_ID="${gi}"`)
        .replace(/ 0\.000000$/, ` ${value}`);
    page = [series(9, '1g.5gb', '0.000000'), series(2, '4g.20gb', '0.400000')].join('\n') + '\n';
    expect(await reap(world)).toEqual([]);
    expect((await record(world, 'large')).gpu_util).toMatchObject({last: 40, source: 'dcgm'});
    world.clock.advance(5 * 60_000);
    page = '<html>502</html>\n';
    expect(await reap(world)).toEqual([]);
    expect(world.warnings.at(-1)).toMatch(/^dcgm-exporter: line 1 is not a Prometheus sample/);
    page = [series(9, '1g.5gb', '0.010000'), series(2, '4g.20gb', '0.400000')].join('\n') + '\n';
    world.clock.advance(5 * 60_000);
    const items = await reap(world);
    expect(items.map((item) => [item.action, item.user])).toEqual([['stop-session', 'small']]);
    expect(items[0]!.detail).toMatch(/max 1 %, last 1 % at .* \(dcgm\)\): idle for idleGpuWindow 10m/);

    // Without dcgm-exporter a MIG device has no sample: the GPU rule leaves it to the process rule.
    const bare = fakeWorld({smi: FakeNvidiaSmi.a100(), settings: {idleGpuWindow: '10m'}});
    await bare.sessions.create(slice('small', '1g.5gb'));
    for (let round = 0; round < 3; round++) {
      expect(await reap(bare)).toEqual([]);
      bare.clock.advance(6 * 60_000);
    }
    expect((await record(bare, 'small')).gpu_util ?? null).toBeNull();
  });
});

describe('user set --idle-gpu-threshold/--idle-gpu-window', () => {
  it('gives a user their own GPU rule, checked as the settings are; "inherit" takes it away', async () => {
    const world = fakeWorld({settings: {groups: {students: {idleGpuWindow: '1h'}}}});
    await world.users.add('stu', {group: 'students'});
    expect((await world.users.show('stu')).limits.idle_gpu_window_minutes).toEqual({
      value: 60,
      source: 'group students',
    });
    await world.users.set('stu', {limits: {idleGpuThreshold: 2, idleGpuWindow: '30m'}});
    expect((await world.users.show('stu')).limits).toMatchObject({
      idle_gpu_threshold: {value: 2, source: 'user'},
      idle_gpu_window_minutes: {value: 30, source: 'user'},
    });
    await expect(world.users.set('stu', {limits: {idleGpuWindow: 'soon'}})).rejects.toMatchObject({
      exitCode: 2,
    });
    await world.users.set('stu', {limits: {idleGpuWindow: null}});
    expect((await world.users.show('stu')).limits.idle_gpu_window_minutes.source).toBe('group students');
  });
});

describe("doctor's GPU idleness line", () => {
  const config = (extra: Record<string, unknown> = {}) =>
    loadConfig({env: {}, readFile: () => JSON.stringify({stateFile: '/fake/state.json', ...extra})});

  it('warns that MIG devices fall back to the process rule without dcgm-exporter, and when it cannot be read', async () => {
    const smi = FakeNvidiaSmi.a100();
    expect(await checkGpuIdleness({config: config(), smi})).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^4 MIG device\(s\) and no dcgmExporterUrl/),
    });
    const url = {dcgmExporterUrl: 'http://localhost:9400/metrics'};
    const failing = {
      metrics: async () =>
        Promise.reject(new Error('cannot read http://localhost:9400/metrics: ECONNREFUSED')),
    };
    expect(await checkGpuIdleness({config: config(url), smi, dcgm: failing})).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('ECONNREFUSED; MIG devices fall back to the process rule'),
    });
    const page = {metrics: async () => dcgmPage()};
    expect(await checkGpuIdleness({config: config(url), smi, dcgm: page})).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^3 MIG device\(s\) reported by http:\/\/localhost:9400\/metrics/),
    });
    expect(await checkGpuIdleness({config: config(), smi: FakeNvidiaSmi.rtxPro6000x8()})).toMatchObject({
      status: 'ok',
      detail: 'whole GPUs sampled with nvidia-smi; under 5 % for 2h stops a session',
    });
    expect(await checkGpuIdleness({config: config(), smi: FakeNvidiaSmi.absent()})).toBeUndefined();
    expect(() => config({dcgmExporterUrl: 'ftp://x/metrics'})).toThrow(/must be an http\(s\) URL/);
  });
});
