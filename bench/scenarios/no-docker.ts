/** Commands that need no Docker round trip, against starting node at all. */
import {RUNS, sandman, timed, median, writeState, registeredUsers, record, type Row} from '../harness.js';

/** Commands that need no Docker round trip: within 1.6x of starting node at all. */
export async function benchNoDocker(node: number): Promise<Row[]> {
  const rows: Row[] = [];
  const future = '2099-01-01T00:00:00Z';
  await writeState(
    Array.from({length: 1000}, (_, index) => record(index, `c${index}`, future)),
    registeredUsers(1000),
  );
  const commands: Array<[string, string[], number]> = [
    ['session ls --json (1,000 sessions, 1,000 users)', ['session', 'ls', '--json'], 0],
    ['session show (1,000 sessions, 1,000 users)', ['session', 'show', 'bench500'], 0],
    ['user show (1,000 users)', ['user', 'show', 'bench500'], 0],
    // No nvidia-smi: the gpu commands list nothing, exit 0 (issue 36; it was exit 6).
    ['gpu ls, no nvidia-smi', ['gpu', 'ls'], 0],
  ];
  for (const [name, args, exitCode] of commands) {
    const times: number[] = [];
    for (let run = 0; run < RUNS * 2; run++) {
      times.push(
        await timed(async () => {
          const result = await sandman(args);
          if (result.exitCode !== exitCode)
            throw new Error(`${name}: exit ${result.exitCode} ${result.stderr}`);
        }),
      );
    }
    rows.push({
      name,
      sandman: median(times),
      baseline: node,
      baselineName: 'node -e 0',
      target: 1.6,
      unit: 'ms',
    });
  }
  return rows;
}
