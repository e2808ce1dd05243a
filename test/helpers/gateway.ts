import {connect} from 'node:net';
import {setTimeout as sleep} from 'node:timers/promises';

import {execa, type ResultPromise} from 'execa';

import {BIN} from './constants.js';
import {strictHostKeyOptions, type CliResult, type Sandbox} from './sandbox.js';

/**
 * The SSH gateway as systemd runs it: real systemd code (`systemd-socket-activate --accept`)
 * listens and starts one `sandman gateway` per accepted connection, with the sandbox's settings.
 */
export class GatewayUnderTest {
  private constructor(
    readonly port: number,
    private readonly child: ResultPromise,
    private readonly output: string[],
  ) {}

  static async start(
    sandbox: Sandbox,
    port: number,
    env: Record<string, string> = {},
    /** Swarm lab: a manager's network namespace and address (test/swarm/lab.sh). */
    host?: {netns: string; address: string},
  ): Promise<GatewayUnderTest> {
    const variables = {...sandbox.env, ...env};
    const output: string[] = [];
    const address = host?.address ?? '127.0.0.1';
    const child = execa(
      host ? 'nsenter' : 'systemd-socket-activate',
      [
        ...(host ? [`--net=/var/run/netns/${host.netns}`, 'systemd-socket-activate'] : []),
        '--accept',
        '-l',
        `${address}:${port}`,
        ...Object.entries(variables).flatMap(([key, value]) => ['-E', `${key}=${value}`]),
        '-E',
        `PATH=${process.env.PATH}`,
        process.execPath,
        BIN,
        'gateway',
      ],
      {reject: false, all: true, buffer: false},
    );
    child.all?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const gateway = new GatewayUnderTest(port, child, output);
    for (let tries = 0; tries < 100; tries++) {
      if (await listening(address, port)) return gateway;
      await sleep(50);
    }
    throw new Error(`the gateway's socket never listened on ${port}: ${output.join('')}`);
  }

  /** What systemd-socket-activate and the gateway processes wrote (for failure messages). */
  log(): string {
    return this.output.join('');
  }

  /** The gateway processes running now (one per open connection). */
  async processes(): Promise<number[]> {
    const result = await execa('pgrep', ['-P', String(this.child.pid)], {reject: false});
    return String(result.stdout).split('\n').filter(Boolean).map(Number);
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await this.child;
  }
}

/** Whether something accepts a TCP connection on address:port (the connection is closed at once). */
export function listening(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, address);
    // A connection is accepted by systemd and handed to a gateway: close it at once.
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** `ssh -p PORT user@127.0.0.1 command`, host key checked strictly against `knownHosts` only. */
export async function gatewaySsh(
  port: number,
  user: string,
  command: string,
  options: {key?: string; knownHosts: string; extra?: string[]; env?: Record<string, string>; host?: string},
): Promise<CliResult> {
  const result = await execa(
    'ssh',
    [
      // ssh keeps the first value given for an option: the test's own come before the defaults.
      ...(options.key ? ['-i', options.key] : ['-o', 'IdentitiesOnly=no']),
      ...(options.extra ?? []),
      '-o',
      'LogLevel=ERROR',
      ...strictHostKeyOptions(options.knownHosts),
      '-p',
      String(port),
      `${user}@${options.host ?? '127.0.0.1'}`,
      command,
    ],
    {reject: false, stdin: 'ignore', timeout: 120_000, env: options.env},
  );
  return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)};
}
