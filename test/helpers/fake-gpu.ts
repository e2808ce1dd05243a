import {readFile} from 'node:fs/promises';
import path from 'node:path';

import {ROOT} from './constants.js';

export const NVIDIA_SMI_STAND_IN = path.join(ROOT, 'test/stand-ins/nvidia-smi.mjs');
/** Written by test/stand-ins/nvidia-container-runtime-hook, which .ci/run puts on dockerd's PATH. */
export const HOOK_LOG = '/var/tmp/sandman-test-nvidia-hook.log';

/** Environment that makes sandman see a replayed GPU host (test/fixtures/hosts/<host>.json). */
export function fakeGpuEnv(
  dir: string,
  host: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SANDMAN_NVIDIA_SMI: NVIDIA_SMI_STAND_IN,
    SANDMAN_FAKE_GPU_HOST: host,
    SANDMAN_FAKE_GPU_STATE: path.join(dir, `gpu-state-${host}.json`),
    SANDMAN_FAKE_GPU_LOG: path.join(dir, `nvidia-smi-${host}.log`),
    ...extra,
  };
}

/** The NVIDIA_VISIBLE_DEVICES the hook saw when this container started. */
export async function devicesSeenByHook(containerId: string): Promise<string | undefined> {
  const log = await readFile(HOOK_LOG, 'utf8').catch(() => '');
  const line = log
    .split('\n')
    .reverse()
    .find((entry) => entry.startsWith(containerId + ' '));
  return line?.slice(containerId.length + 1);
}

export async function nvidiaSmiCalls(dir: string, host: string): Promise<string[]> {
  const log = await readFile(path.join(dir, `nvidia-smi-${host}.log`), 'utf8').catch(() => '');
  return log.split('\n').filter(Boolean);
}
