import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

/**
 * A GPU host's bad days (docs/admin/gpus.md): the nvidia-smi stand-in answers with the real
 * captured words of each failure (SANDMAN_FAKE_GPU_FAILURE, SOURCES.md "Failure messages"), and
 * every gpu command answers the same way, run after run.
 */
let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 33_700, portCount: 5});
});
afterAll(async () => {
  await sandbox.cleanup();
});

interface Answer {
  exitCode: number;
  stdout: string;
}

async function answers(args: string[], env: Record<string, string>, runs: number): Promise<Answer[]> {
  const results: Answer[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await sandbox.run([...args, '--json'], {env});
    results.push({exitCode: result.exitCode, stdout: result.stdout});
  }
  return results;
}

const host = (name: string, failure: string) =>
  fakeGpuEnv(sandbox.dir, name, {SANDMAN_FAKE_GPU_FAILURE: failure});

describe('nvidia-smi failing', () => {
  it('driver not loaded: exit 6 naming the cause, the same in 20 runs of gpu ls', async () => {
    const results = await answers(['gpu', 'ls'], host('a100-mig-r580', 'driver'), 20);
    expect(new Set(results.map((result) => JSON.stringify(result))).size).toBe(1);
    expect(results[0]!.exitCode).toBe(6);
    expect(JSON.parse(results[0]!.stdout).error.message).toMatch(/^the NVIDIA driver is not loaded: /);
    for (const command of [
      ['gpu', 'profiles'],
      ['gpu', 'available'],
      ['session', 'create', 'x', '--profile', '1g.5gb'],
    ]) {
      const [answer] = await answers(command, host('a100-mig-r580', 'driver'), 1);
      expect(answer!.exitCode, command.join(' ')).toBe(6);
      expect(answer!.stdout).toContain('the NVIDIA driver is not loaded');
    }
  });

  it('"No devices were found", with exit 6 or 0: an empty inventory', async () => {
    for (const failure of ['no-devices', 'no-devices-exit0']) {
      const results = await answers(['gpu', 'ls'], host('rtx-pro-6000-x8-no-mig', failure), 20);
      expect(
        results.every((result) => result.exitCode === 0 && JSON.parse(result.stdout).length === 0),
        failure,
      ).toBe(true);
    }
    const available = await answers(['gpu', 'available'], host('rtx-pro-6000-x8-no-mig', 'no-devices'), 1);
    expect(JSON.parse(available[0]!.stdout).devices).toEqual([]);
  });

  it('an older driver without mig.mode.current: asked again without it, MIG treated as unsupported', async () => {
    const results = await answers(['gpu', 'ls'], host('rtx-pro-6000-x8-no-mig', 'unknown-field'), 20);
    expect(new Set(results.map((result) => result.stdout)).size).toBe(1);
    expect(results[0]!.exitCode).toBe(0);
    const gpus = JSON.parse(results[0]!.stdout) as Array<{mig_mode: string | null}>;
    expect(gpus).toHaveLength(8);
    expect(gpus.every((gpu) => gpu.mig_mode === null)).toBe(true);
    // The same host on a driver that knows the field reports the mode.
    const [current] = await answers(['gpu', 'ls'], fakeGpuEnv(sandbox.dir, 'rtx-pro-6000-x8-no-mig'), 1);
    expect(JSON.parse(current!.stdout)[0].mig_mode).toBe('Disabled');
  });

  it('-L shorter than the query: an error, not a shorter list', async () => {
    const results = await answers(['gpu', 'ls'], host('rtx-pro-6000-x8-no-mig', 'truncated'), 20);
    expect(new Set(results.map((result) => result.stdout)).size).toBe(1);
    expect(results[0]!.exitCode).toBe(1);
    expect(JSON.parse(results[0]!.stdout).error.message).toMatch(
      /^nvidia-smi -L listed 7 GPU\(s\) but --query-gpu 8: a truncated answer/,
    );
  });

  it('"No MIG-enabled devices found." from mig -lgip: no profiles, not a failure', async () => {
    const results = await answers(['gpu', 'profiles'], host('a100-mig-r580', 'no-mig'), 20);
    expect(results.every((result) => result.exitCode === 0 && result.stdout.trim() === '[]')).toBe(true);
  });

  it('"Insufficient Permissions" on a listing: says listing MIG needs root', async () => {
    const results = await answers(['gpu', 'profiles'], host('a100-mig-r580', 'permissions'), 20);
    expect(new Set(results.map((result) => result.stdout)).size).toBe(1);
    expect(results[0]!.exitCode).toBe(6);
    expect(JSON.parse(results[0]!.stdout).error.message).toContain(
      'listing MIG devices needs root on this driver',
    );
  });
});

describe('one memory figure per MIG device', () => {
  it('gpu ls gives the -lgip memory that gpu profiles and gpu available give', async () => {
    const env = fakeGpuEnv(sandbox.dir, 'a100-mig-r580');
    const [ls] = await answers(['gpu', 'ls'], env, 1);
    const [available] = await answers(['gpu', 'available'], env, 1);
    const device = JSON.parse(ls!.stdout)[0].mig_devices.find(
      (d: {profile: string}) => d.profile === '1g.5gb',
    );
    expect(device.memory_gib).toBe(4.75);
    expect(
      JSON.parse(available!.stdout).devices.find((d: {profile: string}) => d.profile === '1g.5gb').memory_gib,
    ).toBe(4.75);
  });
});
