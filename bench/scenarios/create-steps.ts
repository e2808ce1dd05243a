/** create's floor: raw Docker with one of create's requirements added at each step, and a bare Node client. */
import {writeFileSync} from 'node:fs';
import {mkdir} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';

import {
  ROOT,
  RUNS,
  dir,
  sandman,
  docker,
  timed,
  median,
  sshUntilReady,
  type Row,
  benchKey,
  bareContainer,
  sessionContainer,
  engineSpec,
  runUntilSsh,
} from '../harness.js';

/**
 * Where the floor goes: raw Docker, no sandman, one of create's requirements added at each step,
 * each against the true floor measured in the same run (docs/admin/network.md, "Connecting
 * from a laptop and VS Code"). No targets: these bound what any sandman can reach.
 */
export async function benchCreateSteps(): Promise<Row[]> {
  const rows: Row[] = [];
  // The sessions network as sandman makes it, for a run without the create row before it.
  const session = await sandman(['session', 'create', 'steps', '--no-gpu', '--no-wait']);
  if (session.exitCode !== 0) throw new Error(`session create failed: ${String(session.stderr)}`);
  await sandman(['session', 'rm', 'steps']);
  // A session's host key directory, as sandman keeps one (docs/admin/upgrades-and-backups.md "Where things are").
  const keyDir = path.join(dir, 'host-key');
  await mkdir(keyDir, {recursive: true, mode: 0o700});
  await execa('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-f',
    path.join(keyDir, 'ssh_host_ed25519_key'),
  ]);
  const steps = {
    floor: [] as number[],
    network: [] as number[],
    session: [] as number[],
    hostKey: [] as number[],
    node: [] as number[],
  };
  const client = {node: [] as number[], docker: [] as number[]};
  for (let run = 0; run < RUNS; run++) {
    const name = `sandman-bench-step${run}`;
    steps.floor.push(await runUntilSsh(name, 34997, 'root', bareContainer(name, 34997)));
    steps.network.push(
      await runUntilSsh(name, 34997, 'root', bareContainer(name, 34997, ['--network', 'sandman-bench'])),
    );
    steps.session.push(
      await runUntilSsh(name, 34997, `step${run}`, await sessionContainer(name, 34997, `step${run}`)),
    );
    // The host key as sandman gives it: its directory mounted read-only where sshd reads it.
    const args = await sessionContainer(name, 34997, `key${run}`);
    steps.hostKey.push(
      await runUntilSsh(name, 34997, `key${run}`, ['-v', `${keyDir}:/etc/ssh/sandman:ro`, ...args]),
    );
    // The same container from a Node process that does nothing else (bench/node-client.cjs).
    const user = `node${run}`;
    await sessionContainer(name, 34997, user);
    const spec = path.join(dir, 'node-client.json');
    writeFileSync(spec, JSON.stringify(engineSpec(user, 34997, keyDir)));
    steps.node.push(
      await timed(async () => {
        const client = await execa(
          'node',
          [path.join(ROOT, 'bench', 'node-client.cjs'), spec, name, '34997'],
          {
            reject: false,
          },
        );
        if (client.exitCode !== 0) throw new Error(`node-client failed: ${String(client.stderr)}`);
        await sshUntilReady(benchKey().file, 34997, user);
      }),
    );
    await docker(['rm', '-f', name]);
    client.node.push(await timed(() => execa('node', ['-e', '0'])));
    client.docker.push(await timed(() => execa('docker', ['--version'])));
  }
  const floor = median(steps.floor);
  const step = (name: string, values: number[]) =>
    rows.push({
      name,
      sandman: median(values),
      baseline: floor,
      baselineName: 'true floor (same run)',
      target: null,
      unit: 'ms',
    });
  step('floor + sessions network', steps.network);
  step('+ limits, home, user set-up', steps.session);
  step('+ host key mounted read-only', steps.hostKey);
  rows.push({
    name: 'the same from a bare Node client',
    sandman: median(steps.node),
    baseline: median(steps.hostKey),
    baselineName: 'create-steps "+ host key mounted read-only"',
    target: null,
    unit: 'ms',
  });
  rows.push({
    name: 'client start: node -e 0',
    sandman: median(client.node),
    baseline: median(client.docker),
    baselineName: 'docker --version',
    target: null,
    unit: 'ms',
  });
  return rows;
}
