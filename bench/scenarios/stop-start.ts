/** `session start` of a stopped session. */
import {RUNS, sandman, docker, timed, median, sshUntilReady, type Row} from '../harness.js';

/**
 * `session start` of a stopped session whose device is still free (docs/admin/sessions.md "Stop and start")
 * against what it must do at least: `docker start` of that container and the wait for SSH.
 */
export async function benchStopStart(): Promise<Row[]> {
  const rows: Row[] = [];
  const created = await sandman(['session', 'create', 'pause', '--no-gpu', '--json']);
  if (created.exitCode !== 0) throw new Error(`session create failed: ${String(created.stderr)}`);
  const session = JSON.parse(String(created.stdout)) as {
    container_id: string;
    ssh_port: number;
    ssh_private_key_path: string;
  };
  const mine: number[] = [];
  const raw: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      await sandman(['session', 'stop', 'pause']);
      mine.push(
        await timed(async () => {
          const started = await sandman(['session', 'start', 'pause']);
          if (started.exitCode !== 0) throw new Error(`session start failed: ${String(started.stderr)}`);
          await sshUntilReady(session.ssh_private_key_path, session.ssh_port, 'pause');
        }),
      );
      await docker(['stop', '-t', '10', session.container_id]);
      raw.push(
        await timed(async () => {
          await docker(['start', session.container_id]);
          await sshUntilReady(session.ssh_private_key_path, session.ssh_port, 'pause');
        }),
      );
    }
  } finally {
    await sandman(['session', 'rm', 'pause']);
  }
  rows.push({
    name: 'session start, same device',
    sandman: median(mine),
    baseline: median(raw),
    baselineName: 'docker start + ssh poll',
    target: 1.3,
    unit: 'ms',
  });
  return rows;
}
