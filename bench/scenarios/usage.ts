/** `sandman usage` over a year of audit lines. */
import {writeFileSync} from 'node:fs';
import path from 'node:path';

import {RUNS, dir, sandman, timed, median, type Row} from '../harness.js';

/** A year of audit lines: 500,000 of them, summarised by `sandman usage`. */
export async function benchUsage(): Promise<Row[]> {
  const rows: Row[] = [];
  const file = path.join(dir, 'usage-audit.jsonl');
  const start = Date.parse('2025-11-24T00:00:00Z');
  const lines: string[] = [];
  for (let index = 0; lines.length < 500_000; index++) {
    const session = index.toString(16).padStart(12, '0');
    const user = `user${index % 200}`;
    const created = start + index * 189_000;
    const base = {actor: 'root', session, user, result: 'ok'};
    lines.push(
      JSON.stringify({
        time: new Date(created).toISOString(),
        ...base,
        action: 'create',
        mig_profile: '3g.20gb',
        gpu_uuid: `MIG-${index % 14}`,
        gpu_fraction: 3 / 7,
        expires_at: new Date(created + 7_200_000).toISOString(),
      }),
      JSON.stringify({
        time: new Date(created + 3_600_000).toISOString(),
        ...base,
        action: 'extend',
        expires_at: new Date(created + 10_800_000).toISOString(),
      }),
      JSON.stringify({
        time: new Date(created + 9_000_000).toISOString(),
        ...base,
        action: index % 2 ? 'rm' : 'reap',
        reason: 'expired',
      }),
    );
  }
  writeFileSync(file, lines.join('\n') + '\n');
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    times.push(
      await timed(async () => {
        const result = await sandman(['usage', '--since', '400d', '--json'], {SANDMAN_AUDIT_LOG: file});
        if (result.exitCode !== 0) throw new Error(`usage failed: ${result.stderr}`);
      }),
    );
  }
  rows.push({
    name: 'usage, 500,000 audit lines',
    sandman: median(times),
    baseline: 2000,
    baselineName: 'target',
    target: 1,
    unit: 'ms',
  });
  return rows;
}
