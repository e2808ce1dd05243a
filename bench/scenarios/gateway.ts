/** The SSH gateway under systemd-socket-activate. */
import {writeFileSync} from 'node:fs';
import path from 'node:path';

import {execa} from 'execa';

import {generateKeyPair} from '../../src/ssh/ssh-keys.js';
import {
  BIN,
  RUNS,
  benchKey,
  dir,
  docker,
  env,
  SSH,
  sandman,
  sessionContainer,
  sshUntilReady,
  timed,
  median,
  type Row,
} from '../harness.js';

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
  const activator = gatewayActivator(env, port);
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

/**
 * A class arriving at once: 20 users' first `ssh … true` through the gateway at the same moment
 * (each connection its own socket-activated process, each starting its session), against 20 `docker
 * run -d` of a session's container at once, each polled with `ssh … true` until it lets its user in.
 */
export async function benchGatewayBurst(): Promise<Row[]> {
  const count = 20;
  const port = 34993;
  const key = generateKeyPair('gateway-burst');
  const keyFile = path.join(dir, 'burst-key');
  writeFileSync(keyFile, key.privateKey, {mode: 0o600});
  writeFileSync(`${keyFile}.pub`, key.publicKey + '\n');
  const users = Array.from({length: count}, (_, index) => `class${index}`);
  for (const user of users) {
    const added = await sandman(['user', 'add', user, '--ssh-key', `${keyFile}.pub`, '--no-gpu']);
    if (added.exitCode !== 0) throw new Error(`user add failed: ${String(added.stderr)}`);
  }
  const activator = gatewayActivator(env, port);
  // The same gateway serving every connection from one process (`gateway --listen`, as a supervisor
  // without systemd runs it): what systemd's Accept=no would give, measured beside Accept=yes.
  const onePort = port + 1;
  const oneProcess = execa(process.execPath, [BIN, 'gateway', '--listen', `127.0.0.1:${onePort}`], {
    env: {...env, SANDMAN_GATEWAY_MAX_CONNECTIONS_PER_SOURCE: '100'},
    reject: false,
  });
  const removeAll = () => Promise.all(users.map((user) => sandman(['session', 'rm', user])));
  const through = (user: string, to = port) =>
    execa('ssh', [...SSH, '-i', keyFile, '-p', String(to), `${user}@127.0.0.1`, 'true'], {reject: false});
  const burst = async (to: number) => {
    await removeAll();
    let failed = 0;
    const time = await timed(() =>
      Promise.all(users.map(async (user) => ((await through(user, to)).exitCode === 0 ? 0 : failed++))),
    );
    if (failed > 0) throw new Error(`${failed} of ${count} gateway connections failed`);
    return time;
  };
  const gatewayTimes: number[] = [];
  const oneTimes: number[] = [];
  const rawTimes: number[] = [];
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (let run = 0; run < RUNS; run++) {
      gatewayTimes.push(await burst(port));
      oneTimes.push(await burst(onePort));
      await removeAll();
      rawTimes.push(
        await timed(() =>
          Promise.all(
            users.map(async (user, index) => {
              const name = `bench-class-${index}`;
              const args = await sessionContainer(name, 34_900 + index, user);
              const ran = await docker(['run', '-d', ...args]);
              if (ran.exitCode !== 0) throw new Error(`docker run failed: ${String(ran.stderr)}`);
              await sshUntilReady(benchKey().file, 34_900 + index, user);
            }),
          ),
        ),
      );
      await Promise.all(users.map((_, index) => docker(['rm', '-f', `bench-class-${index}`])));
    }
  } finally {
    await removeAll();
    activator.kill();
    oneProcess.kill();
    await Promise.all([activator, oneProcess]);
  }
  return [
    {
      name: '20 first gateway connections at once',
      sandman: median(gatewayTimes),
      baseline: median(rawTimes),
      baselineName: '20 docker run -d at once + ssh true',
      target: 1.5,
      unit: 'ms',
    },
    {
      name: '20 at once, one gateway process',
      sandman: median(oneTimes),
      baseline: median(rawTimes),
      baselineName: '20 docker run -d at once + ssh true',
      target: null,
      unit: 'ms',
    },
  ];
}

/** The gateway as its socket unit runs it: one process per connection (Accept=yes) on `port`. */
function gatewayActivator(env: Record<string, string>, port: number) {
  return execa(
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
}
