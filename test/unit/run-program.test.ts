import {chmodSync, mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {IptablesFirewall} from '../../src/network/adapters/iptables-firewall.js';
import {ProcessNvidiaSmi} from '../../src/gpu/adapters/process-nvidia-smi.js';
import {runProgram} from '../../src/core/adapters/run-program.js';

const dir = mkdtempSync(path.join(tmpdir(), 'sandman-run-program-'));
function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('runProgram', () => {
  it('returns the exit code and both outputs as written, final newline kept', async () => {
    const file = script('both', 'printf "out\\n"; printf "err\\n" >&2; exit 3');
    expect(await runProgram(file, [])).toEqual({exitCode: 3, stdout: 'out\n', stderr: 'err\n'});
    expect(await runProgram('sh', ['-c', 'echo "$1"', 'sh', 'a b'])).toEqual({
      exitCode: 0,
      stdout: 'a b\n',
      stderr: '',
    });
  });

  it('rejects with the errno code when the program cannot be started', async () => {
    await expect(runProgram(path.join(dir, 'missing'), [])).rejects.toMatchObject({code: 'ENOENT'});
    const notExecutable = path.join(dir, 'plain');
    writeFileSync(notExecutable, 'echo');
    await expect(runProgram(notExecutable, [])).rejects.toMatchObject({code: 'EACCES'});
  });

  it('stops a program that outlives its timeout and says so', async () => {
    const file = script('slow', 'exec sleep 5');
    await expect(runProgram(file, ['x'], {timeoutMs: 200})).rejects.toThrow(`${file} x timed out after 0.2s`);
  });
});

describe('ProcessNvidiaSmi', () => {
  it('parses what the program printed and maps a missing binary to exit 6', async () => {
    const smi = script(
      'nvidia-smi',
      'printf "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-11111111-2222-3333-4444-555555555555)\\n"',
    );
    expect(await new ProcessNvidiaSmi(smi).list()).toEqual([
      expect.objectContaining({index: 0, uuid: 'GPU-11111111-2222-3333-4444-555555555555'}),
    ]);
    await expect(new ProcessNvidiaSmi(path.join(dir, 'none')).list()).rejects.toMatchObject({
      exitCode: 6,
      message: expect.stringContaining('nvidia-smi not found'),
    });
  });
});

describe('IptablesFirewall without iptables', () => {
  it('is exit 6 naming the program that could not be started', async () => {
    const path0 = process.env.PATH;
    process.env.PATH = dir; // holds no iptables
    try {
      await expect(
        new IptablesFirewall().status({bridge: 'br-test', hostAllow: [], egress: 'open', id: 'test'}),
      ).rejects.toMatchObject({
        exitCode: 6,
        message: expect.stringMatching(
          /cannot read the firewall with ip6?tables -S: spawn ip6?tables ENOENT/,
        ),
      });
    } finally {
      process.env.PATH = path0;
    }
  });
});
