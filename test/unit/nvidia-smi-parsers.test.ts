import {readFileSync, readdirSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {parseGpuList} from '../../src/gpu/parse-list.js';
import {countDestroyed, migFailureReason, parseCreatedInstances} from '../../src/gpu/parse-mig-commands.js';
import {parseGpuInstanceProfiles, parseGpuInstances} from '../../src/gpu/parse-mig-tables.js';
import {parseQueryGpu} from '../../src/gpu/parse-query-gpu.js';
import {ROOT} from '../helpers/constants.js';

const DIR = path.join(ROOT, 'test/fixtures/nvidia-smi');
const fixture = (name: string) => readFileSync(path.join(DIR, name), 'utf8');
const all = readdirSync(DIR);

describe('parseGpuList (nvidia-smi -L)', () => {
  it('reads new-style MIG UUIDs from a CRLF capture (H100, 7x 1g.10gb)', () => {
    const text = fixture('h100-80gb_list-L_mig-7x1g.10gb_crlf.txt');
    expect(text).toContain('\r\n');
    const [gpu, ...rest] = parseGpuList(text);
    expect(rest).toEqual([]);
    expect(gpu).toMatchObject({
      index: 0,
      name: 'NVIDIA H100 80GB HBM3',
      uuid: 'GPU-b4895dbf-9350-2524-a89b-98161ddd9fe4',
    });
    expect(gpu!.migDevices).toHaveLength(7);
    expect(gpu!.migDevices.every((device) => device.profile === '1g.10gb')).toBe(true);
    expect(gpu!.migDevices[0]).toEqual({
      uuid: 'MIG-3f6f389f-b0cc-5e5c-8e32-eaa8fd067902',
      profile: '1g.10gb',
      gpuIndex: 0,
      deviceIndex: 0,
      gpuInstanceId: null,
      computeInstanceId: null,
    });
    expect(gpu!.migDevices[6]!.uuid).toBe('MIG-981c86e9-3607-57d7-9426-295347e4b925');
  });

  it('reads old-style MIG-GPU-<uuid>/<gi>/<ci> UUIDs with their instance IDs', () => {
    const [gpu] = parseGpuList(fixture('a100-40gb_list-L_mig-old-uuid-mixed.txt'));
    expect(gpu!.name).toBe('A100-SXM4-40GB');
    expect(gpu!.migDevices.map((d) => [d.profile, d.uuid, d.gpuInstanceId, d.computeInstanceId])).toEqual([
      ['3g.20gb', 'MIG-GPU-4200ccc0-2667-d4cb-9137-f932c716232a/2/0', 2, 0],
      ['2g.10gb', 'MIG-GPU-4200ccc0-2667-d4cb-9137-f932c716232a/3/0', 3, 0],
      ['1g.5gb', 'MIG-GPU-4200ccc0-2667-d4cb-9137-f932c716232a/9/0', 9, 0],
    ]);
    const seven = parseGpuList(fixture('a100-40gb_list-L_mig-old-uuid-7x1g.5gb.txt'))[0]!;
    expect(seven.migDevices.map((d) => d.gpuInstanceId)).toEqual([7, 8, 9, 10, 11, 12, 13]);
  });

  it('keeps compute-instance profile names (1c.2g.10gb) as nvidia-smi prints them', () => {
    const [gpu] = parseGpuList(fixture('a100-40gb_list-L_mig-ci_r580.txt'));
    expect(gpu!.migDevices.map((d) => d.profile)).toEqual(['4g.20gb', '1c.2g.10gb', '1c.2g.10gb', '1g.5gb']);
    const h200 = parseGpuList(fixture('h200_list-L_mig-ci-profiles_masked.txt'))[0]!;
    expect(h200.name).toBe('NVIDIA H200');
    expect(h200.migDevices.map((d) => d.profile)).toEqual([
      '1c.3g.71gb',
      '2c.3g.71gb',
      '2g.35gb',
      '1g.18gb',
      '1g.18gb',
    ]);
  });

  it('reads a multi-GPU host with MIG on every GPU (8x RTX PRO 6000, 4 devices each)', () => {
    const gpus = parseGpuList(fixture('rtx-pro-6000-x8_list-L_mig-4x1g.24gb-each.txt'));
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(
      gpus.every((g) => g.migDevices.length === 4 && g.migDevices.every((d) => d.profile === '1g.24gb')),
    ).toBe(true);
    expect(new Set(gpus.flatMap((g) => g.migDevices.map((d) => d.uuid))).size).toBe(32);
    expect(gpus[7]!.migDevices.every((d) => d.gpuIndex === 7)).toBe(true);
  });

  it('reads a multi-GPU host with MIG off: GPUs without devices', () => {
    const gpus = parseGpuList(fixture('rtx-pro-6000-x8_list-L_no-mig.txt'));
    expect(gpus).toHaveLength(8);
    expect(gpus[1]).toEqual({
      index: 1,
      name: 'NVIDIA RTX PRO 6000 Blackwell Server Edition',
      uuid: 'GPU-03a041b7-8abf-360a-d1a2-dfd70188cd5f',
      migDevices: [],
    });
  });

  it('parses every -L capture in the fixtures into at least one GPU', () => {
    const captures = all.filter((name) => name.includes('_list-L_'));
    expect(captures.length).toBeGreaterThanOrEqual(9);
    for (const name of captures) {
      const gpus = parseGpuList(fixture(name));
      expect(gpus.length, name).toBeGreaterThan(0);
      for (const gpu of gpus) expect(gpu.uuid, name).toMatch(/^GPU-[0-9a-f-]{36}$/);
      for (const device of gpus.flatMap((g) => g.migDevices)) expect(device.uuid, name).toMatch(/^MIG-/);
    }
  });
});

describe('parseQueryGpu (--query-gpu CSV)', () => {
  it('reads the H100 MIG all-fields capture: units, [N/A] utilisation in MIG mode', () => {
    const [gpu, ...rest] = parseQueryGpu(fixture('h100-80gb-mig_query-gpu-all-fields.csv'));
    expect(rest).toEqual([]);
    expect(gpu).toEqual({
      index: 0,
      uuid: 'GPU-00000000-0000-0000-0000-000000000000',
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotalMiB: 81559,
      memoryUsedMiB: 59,
      memoryFreeMiB: 81022,
      utilizationPercent: null,
      temperatureC: 42,
      powerDrawW: 71.15,
      powerLimitW: 700,
      migMode: 'Enabled',
    });
  });

  it('reads the L40S capture: a GPU that cannot do MIG has no MIG mode', () => {
    const [gpu] = parseQueryGpu(fixture('l40s_query-gpu-all-fields.csv'));
    expect(gpu).toMatchObject({
      name: 'NVIDIA L40S',
      memoryTotalMiB: 46068,
      utilizationPercent: 100,
      powerDrawW: 144.97,
      migMode: null,
    });
  });

  it('reads nounits output without a trailing newline (Tesla P100)', () => {
    const text = fixture('tesla-p100_query-gpu-nounits.csv');
    expect(text.endsWith('\n')).toBe(false);
    const [gpu] = parseQueryGpu(text);
    expect(gpu).toMatchObject({
      index: 0,
      name: 'Tesla P100-PCIE-16GB',
      uuid: 'GPU-ef1b2c9b-38d8-2090-2bd1-f567a3eb42a6',
      memoryUsedMiB: 0,
      memoryFreeMiB: 16280,
      utilizationPercent: 0,
      temperatureC: 37,
      powerDrawW: 28.16,
      migMode: null,
    });
  });

  it('reads MIG mode per GPU on a multi-GPU host', () => {
    const gpus = parseQueryGpu(fixture('rtx-pro-6000-x8_query-gpu-index-migmode.csv'));
    expect(gpus.map((g) => [g.index, g.migMode])).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [i, 'Disabled']),
    );
    const [one] = parseQueryGpu(fixture('rtx-pro-6000_query-gpu-index-name-migmode.csv'));
    expect(one).toMatchObject({
      index: 0,
      name: 'NVIDIA RTX PRO 6000 Blackwell Server Edition',
      migMode: 'Disabled',
    });
  });

  it('reads noheader output by the field list asked for', () => {
    const [gpu] = parseQueryGpu(fixture('a100-40gb_query-gpu-mig-mode-noheader_r580.csv'), [
      'mig.mode.current',
    ]);
    expect(gpu!.migMode).toBe('Enabled');
    const spec = parseQueryGpu(
      '0, GPU-9e4aeb94-01c0-5173-4811-4ca60f77b3a9, NVIDIA A100-SXM4-40GB, 40960, 0, 40326, [N/A], 31, 54.02, 400.00, Enabled\n' +
        '1, GPU-41255406-c9af-f94b-4ebf-9d57ad1853da, NVIDIA A100 80GB PCIe, 81920, 5, 81000, 0, 30, [Not Supported], N/A, Disabled\n',
    );
    expect(spec.map((g) => [g.index, g.utilizationPercent, g.powerDrawW, g.powerLimitW, g.migMode])).toEqual([
      [0, null, 54.02, 400, 'Enabled'],
      [1, 0, null, null, 'Disabled'],
    ]);
  });
});

describe('parseGpuInstanceProfiles (nvidia-smi mig -lgip)', () => {
  it('reads the 81-column r580 layout, all free, including +me profiles', () => {
    const profiles = parseGpuInstanceProfiles(fixture('a100-40gb_mig-lgip_r580.txt'));
    expect(profiles.map((p) => [p.name, p.id, p.free, p.total, p.memoryGiB])).toEqual([
      ['1g.5gb', 19, 7, 7, 4.75],
      ['1g.5gb+me', 20, 1, 1, 4.75],
      ['1g.10gb', 15, 4, 4, 9.75],
      ['2g.10gb', 14, 3, 3, 9.75],
      ['3g.20gb', 9, 2, 2, 19.62],
      ['4g.20gb', 5, 1, 1, 19.62],
      ['7g.40gb', 0, 1, 1, 39.38],
    ]);
    expect(profiles[6]).toMatchObject({
      sm: 98,
      dec: 5,
      enc: 0,
      ce: 7,
      jpeg: 1,
      ofa: 1,
      p2p: false,
      gpuIndex: 0,
    });
  });

  it('reads partly used counts after a 4g.20gb instance was made', () => {
    const profiles = parseGpuInstanceProfiles(fixture('a100-40gb_mig-lgip_r580_after-one-4g-gi.txt'));
    expect(Object.fromEntries(profiles.map((p) => [p.name, `${p.free}/${p.total}`]))).toEqual({
      '1g.5gb': '3/7',
      '1g.5gb+me': '1/1',
      '1g.10gb': '2/4',
      '2g.10gb': '1/3',
      '3g.20gb': '1/2',
      '4g.20gb': '0/1',
      '7g.40gb': '0/1',
    });
  });

  it('reads the older 79-column A30 layout, free and fully used', () => {
    const free = parseGpuInstanceProfiles(fixture('a30_mig-lgip_all-free.txt'));
    expect(free.map((p) => [p.name, p.free, p.total, p.memoryGiB])).toEqual([
      ['1g.6gb', 4, 4, 5.81],
      ['1g.6gb+me', 1, 1, 5.81],
      ['2g.12gb', 2, 2, 11.69],
      ['4g.24gb', 1, 1, 23.44],
    ]);
    const used = parseGpuInstanceProfiles(fixture('a30_mig-lgip_all-used.txt'));
    expect(used.every((p) => p.free === 0)).toBe(true);
    expect(used.find((p) => p.name === '4g.24gb')!.memoryGiB).toBe(23.5);
  });
});

describe('parseGpuInstances (nvidia-smi mig -lgi)', () => {
  it('reads the oldest 54-column layout (7x 1g.5gb)', () => {
    const instances = parseGpuInstances(fixture('a100-40gb_mig-lgi_7x1g.5gb.txt'));
    expect(instances.map((i) => [i.instanceId, i.placementStart, i.placementSize])).toEqual([
      [7, 0, 1],
      [8, 1, 1],
      [9, 2, 1],
      [10, 3, 1],
      [11, 4, 1],
      [12, 5, 1],
      [13, 6, 1],
    ]);
    expect(instances.every((i) => i.profile === '1g.5gb' && i.profileId === 19)).toBe(true);
  });

  it('reads the 59-column r580 layout, rows in nvidia-smi order', () => {
    expect(parseGpuInstances(fixture('a100-40gb_mig-lgi_r580.txt'))).toEqual([
      {gpuIndex: 0, profile: '1g.5gb', profileId: 19, instanceId: 9, placementStart: 6, placementSize: 1},
      {gpuIndex: 0, profile: '2g.10gb', profileId: 14, instanceId: 3, placementStart: 4, placementSize: 2},
      {gpuIndex: 0, profile: '4g.20gb', profileId: 5, instanceId: 2, placementStart: 0, placementSize: 4},
    ]);
  });

  it('reads the 57-column A30 and the RTX PRO 6000 layouts', () => {
    expect(parseGpuInstances(fixture('a30_mig-lgi_4x1g.6gb.txt')).map((i) => i.instanceId)).toEqual([
      3, 4, 5, 6,
    ]);
    expect(
      parseGpuInstances(fixture('rtx-pro-6000_mig-lgi_mixed.txt')).map((i) => [
        i.profile,
        i.instanceId,
        i.placementStart,
      ]),
    ).toEqual([
      ['1g.24gb', 5, 6],
      ['1g.24gb', 6, 9],
      ['2g.48gb', 1, 0],
    ]);
    expect(parseGpuInstances(fixture('rtx-pro-6000_mig-lgi_4x1g.24gb.txt'))).toHaveLength(4);
  });
});

describe('MIG create/destroy messages', () => {
  it('reads created GPU and compute instances (GH200: GI IDs out of order, CI profile 7)', () => {
    expect(parseCreatedInstances(fixture('gh200_mig-cgi-C_3x1g.24gb.txt'))).toEqual([
      {gpuIndex: 0, gpuInstanceId: 5, profile: '1g.24gb', profileId: 15, computeInstanceId: 0},
      {gpuIndex: 0, gpuInstanceId: 3, profile: '1g.24gb', profileId: 15, computeInstanceId: 0},
      {gpuIndex: 0, gpuInstanceId: 4, profile: '1g.24gb', profileId: 15, computeInstanceId: 0},
    ]);
    expect(parseCreatedInstances(fixture('a100-40gb_mig-cgi-4g.20gb_r580.txt'))).toEqual([
      {gpuIndex: 0, gpuInstanceId: 2, profile: '4g.20gb', profileId: 5, computeInstanceId: null},
    ]);
    expect(parseCreatedInstances(fixture('rtx-pro-6000_mig-cgi-C_mixed.txt')).map((c) => c.profile)).toEqual([
      '2g.48gb',
      '1g.24gb',
      '1g.24gb',
    ]);
  });

  it('reads the reason of a failure', () => {
    expect(migFailureReason(fixture('gh200_mig-cgi-C_error-insufficient-resources.txt'))).toBe(
      'Insufficient Resources',
    );
    expect(migFailureReason(fixture('gh200_mig-cgi-C_error-in-use.txt'))).toBe('In use by another client');
    expect(migFailureReason(fixture('rtx-pro-6000_mig-dgi_error-in-use.txt'))).toBe(
      'In use by another client',
    );
    expect(migFailureReason(fixture('rtx-pro-6000_mig-dgi.txt'))).toBeUndefined();
  });

  it('counts destroyed instances', () => {
    expect(countDestroyed(fixture('rtx-pro-6000_mig-dci.txt'), 'compute')).toBe(4);
    expect(countDestroyed(fixture('rtx-pro-6000_mig-dgi.txt'), 'GPU')).toBe(4);
  });
});
