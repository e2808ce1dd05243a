/**
 * Crash-test hook: when SANDMAN_FAULT_POINT names this step, the process announces it on stderr
 * and stops there until it is killed. The tests of issue "crash safety" kill -9 a create at each
 * point and check that one `sandman reap` leaves nothing behind. Unset, it costs one comparison.
 */
export async function envFaultPoint(name: string): Promise<void> {
  if (process.env.SANDMAN_FAULT_POINT !== name) return;
  process.stderr.write(`sandman-fault-point: ${name}\n`);
  await new Promise(() => {
    setInterval(() => undefined, 1 << 30);
  });
}
