import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';

import {BIN} from './constants.js';
import type {Sandbox} from './sandbox.js';

/** The host's address on the sandbox's Docker network (its gateway), where sessions reach the host. */
export async function networkGateway(sandbox: Sandbox): Promise<string> {
  return (
    await execa('docker', ['network', 'inspect', sandbox.network, '-f', '{{(index .IPAM.Config 0).Gateway}}'])
  ).stdout.trim();
}

/**
 * `sandman self-serve` as sandman-self.socket runs it: systemd listens on `address:port` and
 * `sandman self-serve` gets the socket. Resolves once the port listens (the process is wrapped: a
 * returned subprocess would be awaited to its exit); what it prints is pushed onto `output`, for a
 * failing assertion to show.
 */
export async function startSelfServe(
  sandbox: Sandbox,
  address: string,
  port: number,
  output: string[],
): Promise<{listener: ResultPromise}> {
  const listener = execa(
    'systemd-socket-activate',
    [
      '-l',
      `${address}:${port}`,
      ...Object.entries(sandbox.env).flatMap(([name, value]) => ['-E', `${name}=${value}`]),
      '-E',
      `PATH=${process.env.PATH}`,
      process.execPath,
      BIN,
      'self-serve',
    ],
    {reject: false, all: true, buffer: false},
  );
  listener.all?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  for (let tries = 0; ; tries++) {
    const listening = await execa('ss', ['-ltnH', `sport = :${port}`], {reject: false});
    if (listening.stdout.includes(String(port))) return {listener};
    if (tries > 100) throw new Error(`self-serve never listened: ${output.join('')}`);
    await sleep(50);
  }
}
