/** The SSH gateway under systemd-socket-activate. */
import {writeFileSync} from 'node:fs';
import path from 'node:path';

import {execa} from 'execa';

import {generateKeyPair} from '../../src/ssh/ssh-keys.js';
import {BIN, RUNS, dir, env, SSH, sandman, timed, median, type Row} from '../harness.js';

/**
 * The SSH gateway (docs/admin/gateway.md "The SSH gateway") under systemd-socket-activate, one process per
 * connection as systemd runs it: a warm connect against ssh to the session's own port, and a
 * connect that starts the session against session create followed by that ssh.
 */
export async function benchGateway(): Promise<Row[]> {
  const rows: Row[] = [];
  const port = 34990;
  const key = generateKeyPair('gateway-bench');
  const keyFile = path.join(dir, 'gateway-key');
  writeFileSync(keyFile, key.privateKey, {mode: 0o600});
  writeFileSync(`${keyFile}.pub`, key.publicKey + '\n');
  const added = await sandman(['user', 'add', 'gw', '--ssh-key', `${keyFile}.pub`, '--no-gpu']);
  if (added.exitCode !== 0) throw new Error(`user add failed: ${String(added.stderr)}`);
  const activator = execa(
    'systemd-socket-activate',
    [
      '--accept',
      '-l',
      `127.0.0.1:${port}`,
      ...Object.entries(env).flatMap(([name, value]) => ['-E', `${name}=${value}`]),
      process.execPath,
      BIN,
      'gateway',
    ],
    {reject: false},
  );
  const through = () =>
    execa('ssh', [...SSH, '-i', keyFile, '-p', String(port), 'gw@127.0.0.1', 'true'], {reject: false});
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const first = await through();
    if (first.exitCode !== 0) throw new Error(`the gateway did not let gw in: ${String(first.stderr)}`);
    const shown = JSON.parse(String((await sandman(['session', 'show', 'gw', '--json'])).stdout)) as {
      ssh_port: number;
    };
    const direct = () =>
      execa('ssh', [...SSH, '-i', keyFile, '-p', String(shown.ssh_port), 'gw@127.0.0.1', 'true'], {
        reject: false,
      });
    const warm: number[] = [];
    const own: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      warm.push(await timed(through));
      own.push(await timed(direct));
    }
    rows.push({
      name: 'gateway ssh, session running',
      sandman: median(warm),
      baseline: median(own),
      baselineName: "ssh to the session's own port",
      target: 1.5,
      unit: 'ms',
    });
    const cold: number[] = [];
    const createThenSsh: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      await sandman(['session', 'rm', 'gw']);
      cold.push(await timed(through));
      await sandman(['session', 'rm', 'gw']);
      createThenSsh.push(
        await timed(async () => {
          const created = JSON.parse(
            String((await sandman(['session', 'create', 'gw', '--no-gpu', '--json'])).stdout),
          ) as {ssh_port: number};
          await execa('ssh', [...SSH, '-i', keyFile, '-p', String(created.ssh_port), 'gw@127.0.0.1', 'true']);
        }),
      );
    }
    rows.push({
      name: 'gateway ssh, session started by it',
      sandman: median(cold),
      baseline: median(createThenSsh),
      baselineName: 'session create, then ssh to its port',
      target: 1.3,
      unit: 'ms',
    });
  } finally {
    await sandman(['session', 'rm', 'gw']);
    activator.kill();
    await activator;
  }
  return rows;
}
