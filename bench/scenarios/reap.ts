/** The reaper: idle over live sessions, flat in their number, and a mass reap of expired ones. */
import {LABELS} from '../../src/core/labels.js';
import {
  RUNS,
  instance,
  sandman,
  docker,
  timed,
  median,
  writeState,
  registeredUsers,
  record,
  startContainers,
  type Row,
} from '../harness.js';

/** Idle reaps over `count` live sessions (with 100 registered users and an empty queue): median ms. */
async function idleReaps(count: number, offset: number): Promise<number> {
  const ids = await startContainers(count, offset);
  await writeState(
    ids.map((id, index) => record(offset + index, id, '2099-01-01T00:00:00Z')),
    registeredUsers(100),
  );
  const times: number[] = [];
  try {
    // A bench run without a create before it has no firewall rules yet: the first reap puts them
    // in (docs/admin/network.md); the reaps measured must find nothing to do.
    await sandman(['reap']);
    for (let run = 0; run < RUNS * 2; run++) {
      const result = await sandman(['reap', '--json']);
      if (JSON.parse(String(result.stdout)).items.length !== 0)
        throw new Error(`reap found work: ${result.stdout}`);
      times.push(await timed(() => sandman(['reap'])));
    }
  } finally {
    await docker(['rm', '-f', ...ids]);
    await writeState([]);
  }
  return median(times);
}

export async function benchIdleReap(node: number): Promise<Row[]> {
  const rows: Row[] = [];
  rows.push({
    name: 'reap, nothing to do (50 live, 100 users)',
    sandman: await idleReaps(50, 0),
    baseline: node,
    baselineName: 'node -e 0',
    target: 2,
    unit: 'ms',
  });
  return rows;
}

/** An idle reap costs the same over 300 live sessions as over 10 (issue "speed after this round"). */
export async function benchReapFlat(): Promise<Row[]> {
  const rows: Row[] = [];
  const few = await idleReaps(10, 0);
  const many = await idleReaps(300, 0);
  rows.push({
    name: 'reap, nothing to do: 300 vs 10 live',
    sandman: many,
    baseline: few,
    baselineName: 'the same reap over 10 live sessions',
    target: 1.3,
    unit: 'ms',
  });
  return rows;
}

export async function benchMassReap(): Promise<Row[]> {
  const rows: Row[] = [];
  const mine: number[] = [];
  const raw: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const ids = await startContainers(100, 0);
    await writeState(ids.map((id, index) => record(index, id, '2020-01-01T00:00:00Z')));
    mine.push(
      await timed(async () => {
        const result = await sandman(['reap']);
        if (result.exitCode !== 0) throw new Error(`reap failed: ${result.stdout} ${result.stderr}`);
      }),
    );
    // A reap that left them would time nothing.
    const left = await docker(['ps', '-aq', '--filter', `label=${LABELS.instance}=${instance}`]);
    if (String(left.stdout).trim() !== '') throw new Error(`reap left containers: ${String(left.stdout)}`);
    const again = await startContainers(100, 0);
    raw.push(await timed(() => docker(['rm', '-f', ...again])));
  }
  rows.push({
    name: 'reap 100 expired sessions',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: 'docker rm -f (100 containers)',
    target: 1.3,
    unit: 'ms',
  });
  return rows;
}
