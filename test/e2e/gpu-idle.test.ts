import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {startDcgmExporter} from '../helpers/dcgm-exporter.js';
import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {editState} from '../helpers/state-file.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

/**
 * GPU utilisation as an idle signal (docs/admin/notifications-and-idleness.md "GPU idleness") on the replayed hosts: the nvidia-smi
 * stand-in told each whole GPU's utilisation over time, a real HTTP dcgm-exporter stand-in serving
 * the captured page for MIG devices, the real engine, the built CLI.
 */
interface Created {
  session_id: string;
  container_id: string;
  gpu_uuid: string;
}
interface Shown {
  status: string;
  gpu_idle?: {state: string; percent: number | null; source: string | null; text: string};
}
interface ReapItem {
  action: string;
  reason: string;
  user: string;
  result: string;
  detail?: string;
}
// Long enough that the CLI calls between two reaps never outlast it on a slow machine; the test
// moves the start of a device's run under the threshold back instead of waiting (as reap tests do).
const WINDOW = '1m';
let sandbox: Sandbox;
let dcgm: Awaited<ReturnType<typeof startDcgmExporter>>;
beforeAll(async () => {
  sandbox = createSandbox({portStart: 36_900, portCount: 30});
  dcgm = await startDcgmExporter(36_935);
});
afterAll(async () => {
  await dcgm?.close();
  await sandbox.cleanup();
});

/** The window has passed: the session's run under the threshold began two minutes earlier. */
const backdateBelow = (id: string) =>
  editState(sandbox.stateFile, (state) => {
    const track = state.sessions.find((session) => session.id === id)!.gpu_util!;
    track.below_since = new Date(Date.parse(track.below_since!) - 2 * 60_000)
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
  });

const audit = async () =>
  (await readFile(path.join(sandbox.dir, 'audit.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as {action: string; user: string; reason: string});

describe('whole GPUs: nvidia-smi utilization.gpu', () => {
  it('stops a session at 0 % for idleGpuWindow (audit line with the numbers), keeps one at 40 %; show and metrics say so', async () => {
    const utilization = path.join(sandbox.dir, 'utilization.json');
    const metricsFile = path.join(sandbox.dir, 'metrics', 'sandman.prom');
    const env = fakeGpuEnv(sandbox.dir, 'rtx-pro-6000-x8-no-mig', {
      SANDMAN_FAKE_GPU_UTILIZATION: utilization,
      SANDMAN_IDLE_GPU_WINDOW: WINDOW,
      SANDMAN_METRICS_FILE: metricsFile,
    });
    const create = async (user: string) => {
      const made = await sandbox.json<Created>(['session', 'create', user, '--gpu', 'any', '--no-wait'], {
        env,
      });
      expect(made.exitCode, made.stderr).toBe(0);
      return made.body;
    };
    const idle = await create('gpuidle');
    const busy = await create('gpubusy');
    await writeFile(utilization, JSON.stringify({[idle.gpu_uuid]: 0, [busy.gpu_uuid]: 40}));
    const reap = async () => (await sandbox.json<{items: ReapItem[]}>(['reap'], {env})).body.items;

    expect(await reap()).toEqual([]);
    const shownBusy = await sandbox.json<Shown>(['session', 'show', 'gpubusy'], {env});
    expect(shownBusy.body.gpu_idle).toMatchObject({state: 'active', percent: 40, source: 'nvidia-smi'});
    const human = await sandbox.run(['session', 'show', 'gpuidle'], {env});
    expect(human.stdout).toMatch(
      /^GPU idle: +GPU under 5 % since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(.*last 0 % at .* \(nvidia-smi\)\): idle stop at .* UTC$/m,
    );
    let metrics = await readFile(metricsFile, 'utf8');
    expect(metrics).toContain(
      `sandman_session_gpu_utilization{session="${busy.session_id}",user="gpubusy",gpu="${busy.gpu_uuid}"} 0.4`,
    );
    const promtool = await execa('promtool', ['check', 'metrics'], {input: metrics, reject: false});
    expect(promtool.stdout + promtool.stderr).toBe('');

    await backdateBelow(idle.session_id);
    const items = await reap();
    expect(items).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'gpuidle', result: 'done'}),
    ]);
    expect(items[0]!.detail).toMatch(
      /^GPU under 5 % since .* \(2m[^;]*; max 0 %, last 0 % at .*\): idle for idleGpuWindow 1m; GPU GPU-\S+ freed$/,
    );
    const line = (await audit()).filter((entry) => entry.action === 'reap').at(-1)!;
    expect(line).toMatchObject({user: 'gpuidle', reason: `idle: ${items[0]!.detail}`});
    expect((await sandbox.json<Shown>(['session', 'show', 'gpuidle'], {env})).body.status).toBe('stopped');
    expect((await sandbox.json<Shown>(['session', 'show', 'gpubusy'], {env})).body.status).toBe('running');
    metrics = await readFile(metricsFile, 'utf8');
    expect(metrics).not.toContain('user="gpuidle"');

    // Over time: the busy one goes quiet, and the count starts from that sample.
    await writeFile(utilization, JSON.stringify({[busy.gpu_uuid]: 1}));
    expect(await reap()).toEqual([]);
    expect((await sandbox.json<Shown>(['session', 'show', 'gpubusy'], {env})).body.gpu_idle).toMatchObject({
      state: 'below',
      percent: 1,
    });
    for (const user of ['gpuidle', 'gpubusy'])
      expect((await sandbox.run(['session', 'rm', user], {env})).exitCode).toBe(0);
  });
});

describe('MIG devices: dcgm-exporter, or the process rule without it', () => {
  const A100 = 'GPU-9e4aeb94-01c0-5173-4811-4ca60f77b3a9';
  const pidOf = async (container: string) =>
    (await execa('docker', ['inspect', '-f', '{{.State.Pid}}', container])).stdout;

  it('with dcgm-exporter: stops a MIG session at 0 % though a CUDA process runs on it, keeps one at 40 %', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'a100-mig-r580', {
      SANDMAN_IDLE_GPU_WINDOW: WINDOW,
      SANDMAN_DCGM_EXPORTER_URL: dcgm.url,
    });
    const create = async (user: string, profile: string) => {
      const made = await sandbox.json<Created>(
        ['session', 'create', user, '--profile', profile, '--no-wait'],
        {env},
      );
      expect(made.exitCode, made.stderr).toBe(0);
      return made.body;
    };
    const idle = await create('migidle', '1g.5gb');
    await create('migbusy', '4g.20gb');
    // GPU instances 9 (1g.5gb) and 2 (4g.20gb) of the replayed A100 (a100-40gb_mig-lgi_r580.txt).
    dcgm.set([
      {gpuIndex: 0, gpuUuid: A100, gpuInstanceId: 9, profile: '1g.5gb', ratio: 0},
      {gpuIndex: 0, gpuUuid: A100, gpuInstanceId: 2, profile: '4g.20gb', ratio: 0.4},
    ]);
    const withProcess = {...env, SANDMAN_FAKE_GPU_COMPUTE_PIDS: await pidOf(idle.container_id)};
    const reap = async () =>
      (await sandbox.json<{items: ReapItem[]}>(['reap'], {env: withProcess})).body.items;
    expect(await reap()).toEqual([]);
    expect((await sandbox.json<Shown>(['session', 'show', 'migbusy'], {env})).body.gpu_idle).toMatchObject({
      state: 'active',
      percent: 40,
      source: 'dcgm',
    });
    await backdateBelow(idle.session_id);
    const items = await reap();
    expect(items).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'migidle', result: 'done'}),
    ]);
    expect(items[0]!.detail).toMatch(
      /max 0 %, last 0 % at .* \(dcgm\)\): idle for idleGpuWindow 1m; GPU MIG-\S+ freed$/,
    );
    expect((await sandbox.json<Shown>(['session', 'show', 'migbusy'], {env})).body.status).toBe('running');
    for (const user of ['migidle', 'migbusy'])
      expect((await sandbox.run(['session', 'rm', user], {env})).exitCode).toBe(0);
  });

  it('without dcgm-exporter: no sample, the process rule keeps a MIG session with a CUDA process; doctor says so', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'a100-mig-r580', {
      SANDMAN_IDLE_GPU_WINDOW: WINDOW,
      SANDMAN_IDLE_TIMEOUT: '3s',
    });
    const made = await sandbox.json<Created>(
      ['session', 'create', 'nodcgm', '--profile', '1g.5gb', '--no-wait'],
      {
        env,
      },
    );
    expect(made.exitCode, made.stderr).toBe(0);
    const withProcess = {...env, SANDMAN_FAKE_GPU_COMPUTE_PIDS: await pidOf(made.body.container_id)};
    const reap = async () =>
      (await sandbox.json<{items: ReapItem[]}>(['reap'], {env: withProcess})).body.items;
    expect(await reap()).toEqual([]);
    await sleep(3500);
    expect(await reap()).toEqual([]);
    const shown = await sandbox.json<Shown>(['session', 'show', 'nodcgm'], {env});
    expect(shown.body).toMatchObject({status: 'running', gpu_idle: {state: 'no-sample', percent: null}});
    expect(shown.body.gpu_idle!.text).toBe('no recent GPU utilisation sample: the process rule applies');
    const doctor = await sandbox.json<{checks: Array<{name: string; status: string; detail: string}>}>(
      ['doctor'],
      {
        env,
      },
    );
    expect(doctor.body.checks.find((check) => check.name === 'GPU idleness')).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /^4 MIG device\(s\) and no dcgmExporterUrl: nvidia-smi reports no utilisation for MIG devices, so they fall back to the process rule/,
      ),
    });
    dcgm.set([{gpuIndex: 0, gpuUuid: A100, gpuInstanceId: 9, profile: '1g.5gb', ratio: 0}]);
    const withDcgm = await sandbox.json<{checks: Array<{name: string; status: string; detail: string}>}>(
      ['doctor'],
      {env: {...env, SANDMAN_DCGM_EXPORTER_URL: dcgm.url}},
    );
    expect(withDcgm.body.checks.find((check) => check.name === 'GPU idleness')).toMatchObject({status: 'ok'});
    // The CUDA process gone, nobody connected: the process rule stops it after idleTimeout.
    await sleep(3500);
    const after = (await sandbox.json<{items: ReapItem[]}>(['reap'], {env})).body.items;
    expect(after).toEqual([
      expect.objectContaining({action: 'stop-session', reason: 'idle', user: 'nodcgm'}),
    ]);
    expect(after[0]!.detail).not.toMatch(/GPU under/);
    expect((await sandbox.run(['session', 'rm', 'nodcgm'], {env})).exitCode).toBe(0);
  });
});
