import {capacity} from '../core/errors.js';

/** Tells whether nothing on the host listens on a port (Docker's proxy, another daemon, ...). */
export type PortProbe = (port: number) => Promise<boolean>;

/**
 * Picks the lowest port in [start, end] that no session holds and nothing on the host listens on.
 * A port held by something else is skipped, not fatal; only an exhausted range is a capacity error.
 */
export async function allocatePort(options: {
  start: number;
  end: number;
  used: Iterable<number>;
  isFree: PortProbe;
}): Promise<number> {
  const used = new Set(options.used);
  for (let port = options.start; port <= options.end; port++) {
    if (used.has(port)) continue;
    if (await options.isFree(port)) return port;
  }
  throw capacity(
    `no free SSH port in ${options.start}-${options.end}: sessions hold ${used.size}, other processes the rest ` +
      '(widen sshPortStart/sshPortEnd or remove sessions)',
  );
}
