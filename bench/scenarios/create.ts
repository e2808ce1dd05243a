/** session create against raw Docker: to SSH, for a registered user, 20 at once, and its peak memory. */
import {writeFileSync} from 'node:fs';
import path from 'node:path';

import {execa} from 'execa';

import {generateKeyPair} from '../../src/ssh/ssh-keys.js';
import {
  ROOT,
  BIN,
  RUNS,
  IMAGE,
  dir,
  env,
  sandman,
  docker,
  timed,
  median,
  sshUntilReady,
  type Row,
  bareContainer,
  sessionContainer,
  runUntilSsh,
} from '../harness.js';

export async function benchCreateToSsh(): Promise<Row[]> {
  const rows: Row[] = [];
  const mine: number[] = [];
  const raw: number[] = [];
  const bare: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    mine.push(
      await timed(async () => {
        const created = await sandman(['session', 'create', `ssh${run}`, '--no-gpu', '--json']);
        const body = JSON.parse(String(created.stdout));
        await sshUntilReady(body.ssh_private_key_path, body.ssh_port, `ssh${run}`);
      }),
    );
    await sandman(['session', 'rm', `ssh${run}`]);
    const rawName = `sandman-bench-raw${run}`;
    raw.push(
      await runUntilSsh(rawName, 34999, `raw${run}`, await sessionContainer(rawName, 34999, `raw${run}`)),
    );
    const bareName = `sandman-bench-bare${run}`;
    bare.push(await runUntilSsh(bareName, 34998, 'root', bareContainer(bareName, 34998)));
  }
  rows.push({
    name: 'create → SSH ready',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: 'docker run + ssh poll',
    target: 1.25,
    unit: 'ms',
  });
  rows.push({
    name: 'create → SSH ready (true floor)',
    sandman: median(mine),
    baseline: median(bare),
    baselineName: 'bare docker run -d -p + ssh poll',
    target: 1.25,
    unit: 'ms',
  });
  return rows;
}

/**
 * create → SSH for a registered user (keys, defaults, limits; the queue checked) against the same
 * create for a name with no record, alternating run by run.
 */
export async function benchCreateRegistered(): Promise<Row[]> {
  const rows: Row[] = [];
  const key = generateKeyPair('bench-user');
  const keyFile = path.join(dir, 'registered.pub');
  const privateFile = path.join(dir, 'registered');
  writeFileSync(keyFile, key.publicKey + '\n');
  writeFileSync(privateFile, key.privateKey, {mode: 0o600});
  const added = await sandman([
    'user',
    'add',
    'member',
    '--ssh-key',
    keyFile,
    '--no-gpu',
    '--ttl',
    '2h',
    '--queue',
    'yes',
  ]);
  if (added.exitCode !== 0) throw new Error(`user add failed: ${String(added.stderr)}`);
  const mine: number[] = [];
  const plain: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    mine.push(
      await timed(async () => {
        const created = await sandman(['session', 'create', 'member', '--json']);
        if (created.exitCode !== 0) throw new Error(`create failed: ${String(created.stdout)}`);
        await sshUntilReady(privateFile, JSON.parse(String(created.stdout)).ssh_port, 'member');
      }),
    );
    await sandman(['session', 'rm', 'member']);
    plain.push(
      await timed(async () => {
        const created = await sandman(['session', 'create', `plain${run}`, '--no-gpu', '--json']);
        const body = JSON.parse(String(created.stdout));
        await sshUntilReady(body.ssh_private_key_path, body.ssh_port, `plain${run}`);
      }),
    );
    await sandman(['session', 'rm', `plain${run}`]);
  }
  await sandman(['user', 'rm', 'member']);
  rows.push({
    name: 'create → SSH, registered user',
    sandman: median(mine),
    baseline: median(plain),
    baselineName: 'the same create, no user record',
    target: 1.05,
    unit: 'ms',
  });
  return rows;
}

export async function benchConcurrentCreates(): Promise<Row[]> {
  const rows: Row[] = [];
  const mine: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    mine.push(
      await timed(() =>
        Promise.all(
          Array.from({length: 20}, (_, k) =>
            sandman(['session', 'create', `many${k}`, '--no-gpu', '--no-wait']),
          ),
        ),
      ),
    );
    await sandman(['session', 'rm', '--all', '--yes']);
    raw.push(
      await timed(() =>
        Promise.all(
          Array.from({length: 20}, (_, k) =>
            docker([
              'run',
              '-d',
              '--name',
              `sandman-bench-many${k}`,
              '--network',
              'sandman-bench',
              '-p',
              `127.0.0.1:${34900 + k}:22`,
              '-e',
              'SANDMAN_USER=x',
              '-e',
              'SANDMAN_UID=30001',
              '-e',
              'SANDMAN_AUTHORIZED_KEYS=x',
              IMAGE,
            ]),
          ),
        ),
      ),
    );
    await docker(['rm', '-f', ...Array.from({length: 20}, (_, k) => `sandman-bench-many${k}`)]);
  }
  rows.push({
    name: '20 creates at once (--no-wait)',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: '20 docker run -d at once',
    target: 1.3,
    unit: 'ms',
  });
  return rows;
}

export async function benchPeakMemory(): Promise<Row[]> {
  const rows: Row[] = [];
  const peaks: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const result = await execa(
      'node',
      [
        '--import',
        path.join(ROOT, 'bench', 'peak-rss.mjs'),
        BIN,
        'session',
        'create',
        `mem${run}`,
        '--no-gpu',
      ],
      {env, reject: false},
    );
    peaks.push(Number(/peak-rss-kib (\d+)/.exec(String(result.stderr))?.[1]) / 1024);
    await sandman(['session', 'rm', `mem${run}`]);
  }
  rows.push({
    name: 'peak memory of session create',
    sandman: median(peaks),
    baseline: 120,
    baselineName: 'target',
    target: 1,
    unit: 'MiB',
  });
  return rows;
}
