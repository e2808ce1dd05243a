import {spawn} from 'node:child_process';

import {BIN} from './constants.js';

/**
 * Runs the CLI with SANDMAN_FAULT_POINT set, waits until it stops at that point, then kills it
 * with SIGKILL (no cleanup can run): a crash at exactly that step.
 */
export async function killAtFaultPoint(
  args: string[],
  env: Record<string, string>,
  point: string,
): Promise<void> {
  const child = spawn('node', [BIN, ...args], {
    env: {...process.env, ...env, SANDMAN_FAULT_POINT: point},
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`sandman-fault-point: ${point}`)) resolve();
    });
    child.on('exit', () => reject(new Error(`${args.join(' ')} ended before the fault point: ${stderr}`)));
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.on('exit', resolve));
}
