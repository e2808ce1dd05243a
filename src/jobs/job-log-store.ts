/**
 * Where a batch job's output stays after its container is gone (docs/admin/jobs.md): in the
 * user's own home, `~/.sandman/jobs/ID.log`, owned by her (adapters/fs-job-log-store.ts).
 */
export interface JobLogStore {
  /** Writes `output` (already cut to the limit) as the home's owner `uid`. */
  keep(home: {workspace: string; uid: number}, jobId: string, output: Buffer): Promise<void>;
  /** The kept log, read as the home's owner; undefined when there is none. */
  read(home: {workspace: string; uid: number}, jobId: string): Promise<Buffer | undefined>;
}

/** Where in the home the log is (as the user sees it: relative to her home). */
export function jobLogPath(jobId: string): string {
  return `.sandman/jobs/${jobId}.log`;
}

/**
 * The newest `limit` bytes of a stream, from a line's start: older output is dropped first, and a
 * first line says so (it counts against the limit too).
 */
export async function newestBytes(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    chunks.push(buffer);
    size += buffer.length;
    while (size > limit && chunks.length > 0) {
      const first = chunks[0]!;
      const over = size - limit;
      if (first.length <= over) {
        chunks.shift();
        size -= first.length;
        dropped += first.length;
      } else {
        chunks[0] = first.subarray(over);
        size -= over;
        dropped += over;
      }
    }
  }
  const kept = Buffer.concat(chunks);
  if (dropped === 0) return kept;
  const note = Buffer.from('[sandman: older output dropped (jobLogLimit)]\n');
  // The note takes its room from the oldest bytes kept, and the rest of a line cut there goes too.
  let body = kept.subarray(Math.min(kept.length, note.length));
  const newline = body.indexOf(10);
  if (newline >= 0 && newline < body.length - 1) body = body.subarray(newline + 1);
  return Buffer.concat([note, body]);
}
