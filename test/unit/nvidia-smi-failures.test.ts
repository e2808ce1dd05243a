import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {classifySmiOutput} from '../../src/gpu/nvidia-smi-failures.js';
import {parseGpuList} from '../../src/gpu/parse-list.js';
import {ROOT} from '../helpers/constants.js';

const capture = (name: string) => readFileSync(path.join(ROOT, 'test/fixtures/nvidia-smi', name), 'utf8');

describe("nvidia-smi's bad days, on the real bytes (SOURCES.md, Failure messages)", () => {
  it('tells each failure apart', () => {
    expect(classifySmiOutput(capture('no-driver_nvidia-smi.txt'))).toEqual({kind: 'driver'});
    expect(classifySmiOutput(capture('tesla-t4_nvidia-smi-i1_no-devices.txt'))).toEqual({kind: 'no-devices'});
    expect(classifySmiOutput(capture('field-not-valid_query-gpu-compute-cap.txt'))).toEqual({
      kind: 'unknown-field',
      field: 'compute_cap',
    });
    expect(classifySmiOutput(capture('tesla-t4_mig-lgip_no-mig-enabled.txt'))).toEqual({kind: 'no-mig'});
    expect(classifySmiOutput(capture('mig-lci_insufficient-permissions.txt'))).toEqual({kind: 'permissions'});
  });

  it('finds nothing wrong in ordinary answers', () => {
    for (const name of [
      'a100-40gb_list-L_mig-ci_r580.txt',
      'a100-40gb_mig-lgip_r580.txt',
      'a100-40gb_mig-lgi_r580.txt',
      'tesla-p100_query-gpu-nounits.csv',
      'a100-40gb_nvidia-smi_mig-enabled-no-devices.txt',
    ]) {
      expect(classifySmiOutput(capture(name)), name).toBeUndefined();
    }
  });

  it('"No devices were found" parses as no GPUs, never as a GPU line', () => {
    expect(parseGpuList(capture('tesla-t4_nvidia-smi-i1_no-devices.txt'))).toEqual([]);
  });
});
