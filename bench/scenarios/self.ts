/** The in-session `sandman` (docs/user/inside-your-session.md). */
import {writeFileSync} from 'node:fs';
import path from 'node:path';

import {execa} from 'execa';

import {generateKeyPair} from '../../src/ssh/ssh-keys.js';
import {BIN, RUNS, SSH, dir, env, median, sandman, timed, type Row} from '../harness.js';

/** The in-session listener's port in the bench; sessions are created with it so they get their token. */
export const SELF_PORT = 34_991;

/**
 * `ssh -p PORT user@host sandman status` in a running session, answered by `sandman self-serve`
 * under systemd-socket-activate (one process that accepts until idle, as sandman-self.socket runs
 * it), against `ssh -p PORT user@host true` over the same kind of connection, alternating.
 */
export async function benchSelfStatus(): Promise<Row[]> {
  const extra = {SANDMAN_SELF_SERVICE_PORT: String(SELF_PORT)};
  const key = generateKeyPair('self-bench');
  const keyFile = path.join(dir, 'self-key');
  writeFileSync(keyFile, key.privateKey, {mode: 0o600});
  writeFileSync(`${keyFile}.pub`, key.publicKey + '\n');
  const added = await sandman(['user', 'add', 'selfy', '--ssh-key', `${keyFile}.pub`, '--no-gpu'], extra);
  if (added.exitCode !== 0) throw new Error(`user add failed: ${String(added.stderr)}`);
  const created = await sandman(['session', 'create', 'selfy', '--no-gpu', '--json'], extra);
  if (created.exitCode !== 0) throw new Error(`session create failed: ${String(created.stderr)}`);
  const port = (JSON.parse(String(created.stdout)) as {ssh_port: number}).ssh_port;
  const gateway = (
    await execa('docker', ['network', 'inspect', 'sandman-bench', '-f', '{{(index .IPAM.Config 0).Gateway}}'])
  ).stdout.trim();
  const listener = execa(
    'systemd-socket-activate',
    [
      '-l',
      `${gateway}:${SELF_PORT}`,
      ...Object.entries({...env, ...extra}).flatMap(([name, value]) => ['-E', `${name}=${value}`]),
      '-E',
      `PATH=${process.env.PATH}`,
      process.execPath,
      BIN,
      'self-serve',
    ],
    {reject: false},
  );
  const ssh = (command: string) =>
    execa('ssh', [...SSH, '-i', keyFile, '-p', String(port), 'selfy@127.0.0.1', command], {reject: false});
  try {
    for (let tries = 0; ; tries++) {
      const warm = await ssh('sandman status');
      if (warm.exitCode === 0) break;
      if (tries > 50) throw new Error(`sandman status in the session failed: ${String(warm.stderr)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const status: number[] = [];
    const bare: number[] = [];
    for (let run = 0; run < RUNS * 2; run++) {
      status.push(await timed(() => ssh('sandman status')));
      bare.push(await timed(() => ssh('true')));
    }
    return [
      {
        name: 'in-session sandman status over ssh',
        sandman: median(status),
        baseline: median(bare),
        baselineName: "ssh to the session's port, true",
        target: 1.5,
        unit: 'ms',
      },
    ];
  } finally {
    listener.kill();
    await listener;
    await sandman(['session', 'rm', 'selfy'], extra);
  }
}
