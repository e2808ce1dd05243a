import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {joinInventory} from '../../src/gpu/inventory.js';
import {parseGpuList} from '../../src/gpu/parse-list.js';
import {parseGpuInstanceProfiles} from '../../src/gpu/parse-mig-tables.js';
import {parseQueryGpu} from '../../src/gpu/parse-query-gpu.js';
import {selectDevice} from '../../src/gpu/select-device.js';
import {ROOT} from '../helpers/constants.js';

const fixture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/nvidia-smi', name), 'utf8');

// Inventories made from real captures.
const h100 = joinInventory(parseGpuList(fixture('h100-80gb_list-L_mig-mixed_crlf.txt')), [], []);
const a100Old = joinInventory(parseGpuList(fixture('a100-40gb_list-L_mig-old-uuid-mixed.txt')), [], []);
const a100Empty = joinInventory(
  parseGpuList('GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-9e4aeb94-01c0-5173-4811-4ca60f77b3a9)\n'),
  parseQueryGpu(fixture('a100-40gb_query-gpu-mig-mode-noheader_r580.csv'), ['mig.mode.current']),
  parseGpuInstanceProfiles(fixture('a100-40gb_mig-lgip_r580.txt')),
);
const rtx = joinInventory(
  parseGpuList(fixture('rtx-pro-6000-x8_list-L_no-mig.txt')),
  parseQueryGpu(fixture('rtx-pro-6000-x8_query-gpu-index-migmode.csv')),
  [],
);
const pool = {defaultProfile: '3g.20gb', migMode: 'pool' as const};
const none = new Set<string>();

describe('selectDevice', () => {
  it('hands out a free device of the asked profile (H100, CRLF capture)', () => {
    expect(selectDevice({kind: 'profile', profile: '1g.10gb'}, h100, none, [], pool)).toEqual({
      gpu_uuid: 'MIG-9d14fb21-4ae1-546f-a636-011582899c39',
      gpu_index: 0,
      mig_profile: '1g.10gb',
      mig_created: false,
      mig_gpu_instance: null,
      mig_compute_instance: null,
    });
    const held = new Set(['MIG-9d14fb21-4ae1-546f-a636-011582899c39']);
    expect(selectDevice({kind: 'profile', profile: '1g.10gb'}, h100, held, [], pool)).toMatchObject({
      gpu_uuid: 'MIG-0f709664-740c-52b0-ae79-3e4c9ede6d3b',
    });
  });

  it('answers exit 5 listing what is free once every device of the profile is held', () => {
    const held = new Set([
      'MIG-9d14fb21-4ae1-546f-a636-011582899c39',
      'MIG-0f709664-740c-52b0-ae79-3e4c9ede6d3b',
    ]);
    expect(() => selectDevice({kind: 'profile', profile: '1g.10gb'}, h100, held, [], pool)).toThrow(
      expect.objectContaining({
        exitCode: 5,
        message: expect.stringContaining(
          'free: 3g.40gb MIG-7089d0f3-293f-58c9-8f8c-5ea666eedbde, 2g.20gb MIG-56c30729',
        ),
      }),
    );
  });

  it('refuses an unknown profile with exit 2, listing the valid ones', () => {
    expect(() => selectDevice({kind: 'profile', profile: '1g.5gb'}, h100, none, [], pool)).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message: expect.stringContaining('valid profiles here: 3g.40gb, 2g.20gb, 1g.10gb'),
      }),
    );
  });

  it('takes an exact MIG device by either UUID form; exit 4 when held, 3 when unknown', () => {
    const uuid = 'MIG-GPU-4200ccc0-2667-d4cb-9137-f932c716232a/3/0';
    expect(selectDevice({kind: 'mig-instance', uuid}, a100Old, none, [], pool)).toMatchObject({
      gpu_uuid: uuid,
      mig_profile: '2g.10gb',
    });
    expect(() => selectDevice({kind: 'mig-instance', uuid}, a100Old, new Set([uuid]), [], pool)).toThrow(
      expect.objectContaining({exitCode: 4}),
    );
    expect(() => selectDevice({kind: 'mig-instance', uuid: 'MIG-nope'}, a100Old, none, [], pool)).toThrow(
      expect.objectContaining({exitCode: 3}),
    );
  });

  it('gives whole GPUs on a host with MIG off, by index or UUID; default takes the first free one', () => {
    expect(selectDevice({kind: 'gpu', ref: '3'}, rtx, none, [], pool)).toMatchObject({
      gpu_uuid: 'GPU-30512c46-708b-f374-5698-ee24be6cd626',
      gpu_index: 3,
      mig_profile: null,
    });
    expect(
      selectDevice({kind: 'gpu', ref: 'GPU-f4c61521-240a-da09-2787-e576034e197e'}, rtx, none, [], pool),
    ).toMatchObject({gpu_index: 7});
    const held = new Set(['GPU-8b89b58e-b427-108d-ac50-06138d78fe78']);
    expect(selectDevice({kind: 'default'}, rtx, held, [], pool)).toMatchObject({gpu_index: 1});
    expect(() => selectDevice({kind: 'gpu', ref: '0'}, rtx, held, [], pool)).toThrow(
      expect.objectContaining({exitCode: 4}),
    );
    expect(() => selectDevice({kind: 'gpu', ref: '8'}, rtx, none, [], pool)).toThrow(
      expect.objectContaining({exitCode: 3}),
    );
    expect(() => selectDevice({kind: 'profile', profile: '1g.24gb'}, rtx, none, [], pool)).toThrow(
      expect.objectContaining({exitCode: 2}),
    );
    const all = new Set(rtx.gpus.map((gpu) => gpu.uuid));
    expect(() => selectDevice({kind: 'default'}, rtx, all, [], pool)).toThrow(
      expect.objectContaining({exitCode: 5}),
    );
    // `--gpu any`: the first free whole GPU; none left is exit 5; a host all in MIG mode exit 2.
    expect(selectDevice({kind: 'gpu', ref: 'any'}, rtx, held, [], pool)).toMatchObject({gpu_index: 1});
    expect(() => selectDevice({kind: 'gpu', ref: 'any'}, rtx, all, [], pool)).toThrow(
      expect.objectContaining({exitCode: 5}),
    );
    expect(() => selectDevice({kind: 'gpu', ref: 'any'}, h100, none, [], pool)).toThrow(
      expect.objectContaining({exitCode: 2}),
    );
  });

  it('refuses a whole MIG-mode GPU with exit 2', () => {
    expect(() => selectDevice({kind: 'gpu', ref: '0'}, h100, none, [], pool)).toThrow(
      expect.objectContaining({exitCode: 2, message: expect.stringContaining('MIG mode')}),
    );
  });

  it('uses the default profile on MIG hosts', () => {
    expect(selectDevice({kind: 'default'}, a100Old, none, [], pool)).toMatchObject({mig_profile: '3g.20gb'});
  });

  it('in dynamic mode reserves a device to create when none is free, counting creations under way', () => {
    const dynamic = {defaultProfile: '3g.20gb', migMode: 'dynamic' as const};
    expect(selectDevice({kind: 'profile', profile: '3g.20gb'}, a100Empty, none, [], dynamic)).toEqual({
      gpu_index: 0,
      mig_profile: '3g.20gb',
    });
    const pending = [
      {gpu_index: 0, mig_profile: '3g.20gb'},
      {gpu_index: 0, mig_profile: '3g.20gb'},
    ];
    expect(() =>
      selectDevice({kind: 'profile', profile: '3g.20gb'}, a100Empty, none, pending, dynamic),
    ).toThrow(
      expect.objectContaining({exitCode: 5, message: expect.stringContaining('no room to create one')}),
    );
    // Pool mode never creates.
    expect(() => selectDevice({kind: 'profile', profile: '3g.20gb'}, a100Empty, none, [], pool)).toThrow(
      expect.objectContaining({exitCode: 5}),
    );
  });

  it('gives no GPU when asked for none', () => {
    expect(selectDevice({kind: 'none'}, h100, none, [], pool)).toBeNull();
  });
});
