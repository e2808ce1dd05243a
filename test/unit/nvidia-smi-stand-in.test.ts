import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import {describe, expect, it} from 'vitest';

import {parseGpuInstances} from '../../src/gpu/parse-mig-tables.js';
import {ROOT} from '../helpers/constants.js';

// The stand-in generates -L/-lgi/-lgip once a MIG command changed its state. These tests hold the
// generator to the real captures: for the states the captures show, it must print the same bytes.
const STAND_IN = path.join(ROOT, 'test/stand-ins/nvidia-smi.mjs');
const capture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/nvidia-smi', name), 'utf8');

async function standIn(host: string, state: unknown, args: string[]): Promise<string> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sandman-standin-')), 'state.json');
  writeFileSync(file, JSON.stringify(state));
  const result = await execa(STAND_IN, args, {
    env: {SANDMAN_FAKE_GPU_HOST: host, SANDMAN_FAKE_GPU_STATE: file},
  });
  return result.stdout + '\n';
}

const gpus = [{index: 0, name: 'NVIDIA A100-SXM4-40GB', uuid: 'GPU-9e4aeb94-01c0-5173-4811-4ca60f77b3a9'}];

describe('nvidia-smi stand-in, generated output', () => {
  it('prints -lgip for an empty A100 exactly as the r580 capture', async () => {
    const output = await standIn('a100-dynamic-r580', {pristine: false, gpus, instances: []}, [
      'mig',
      '-lgip',
    ]);
    expect(output).toBe(capture('a100-40gb_mig-lgip_r580.txt'));
  });

  it('prints -lgip after one 4g.20gb instance exactly as the r580 capture', async () => {
    const instances = [{gpu: 0, gi: 2, profile: '4g.20gb', profileId: 5, start: 0, size: 4, cis: []}];
    const output = await standIn('a100-dynamic-r580', {pristine: false, gpus, instances}, ['mig', '-lgip']);
    expect(output).toBe(capture('a100-40gb_mig-lgip_r580_after-one-4g-gi.txt'));
  });

  it('prints -lgi exactly as the r580 capture for the same instances', async () => {
    const instances = parseGpuInstances(capture('a100-40gb_mig-lgi_r580.txt')).map((i) => ({
      gpu: i.gpuIndex,
      gi: i.instanceId,
      profile: i.profile,
      profileId: i.profileId,
      start: i.placementStart,
      size: i.placementSize,
      cis: [],
    }));
    const output = await standIn('a100-dynamic-r580', {pristine: false, gpus, instances}, ['mig', '-lgi']);
    expect(output).toBe(capture('a100-40gb_mig-lgi_r580.txt'));
  });

  it('prints -L in the r580 layout', async () => {
    const instances = [
      {
        gpu: 0,
        gi: 2,
        profile: '4g.20gb',
        profileId: 5,
        start: 0,
        size: 4,
        cis: [{ci: 0, name: '4g.20gb', uuid: 'MIG-c42101f0-a1fa-5b68-8908-7c5c887f28bd'}],
      },
      {
        gpu: 0,
        gi: 3,
        profile: '2g.10gb',
        profileId: 14,
        start: 4,
        size: 2,
        cis: [
          {ci: 0, name: '1c.2g.10gb', uuid: 'MIG-8970491e-16e0-5140-9f8f-d561baa3c186'},
          {ci: 1, name: '1c.2g.10gb', uuid: 'MIG-239565ce-30e3-52d7-8197-5630d3ce21fa'},
        ],
      },
      {
        gpu: 0,
        gi: 9,
        profile: '1g.5gb',
        profileId: 19,
        start: 6,
        size: 1,
        cis: [{ci: 0, name: '1g.5gb', uuid: 'MIG-20301a31-77fa-59ec-b0b8-7ef543821f29'}],
      },
    ];
    const output = await standIn('a100-dynamic-r580', {pristine: false, gpus, instances}, ['-L']);
    expect(output).toBe(capture('a100-40gb_list-L_mig-ci_r580.txt'));
  });
});
