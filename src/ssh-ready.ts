import {connect} from 'node:net';
import {setTimeout as sleep} from 'node:timers/promises';

/** One attempt: connect and read the server's identification line. */
export function readSshBanner(host: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({host, port});
    let received = '';
    const done = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\n');
      if (end >= 0) done(received.slice(0, end).replace(/\r$/, ''));
      else if (received.length > 255) done(undefined);
    });
  });
}

/**
 * Polls until the port answers with an `SSH-2.0-` banner. Docker's port proxy accepts connections
 * before sshd runs, so a TCP connect alone proves nothing. `check` runs between attempts and may
 * throw to stop early (e.g. the container exited).
 */
export async function waitForSshBanner(options: {
  host: string;
  port: number;
  timeoutMs: number;
  check?: () => Promise<void>;
}): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let attempt = 0;
  while (Date.now() < deadline) {
    const banner = await readSshBanner(
      options.host,
      options.port,
      Math.max(100, Math.min(2000, deadline - Date.now())),
    );
    if (banner?.startsWith('SSH-2.0-')) return true;
    attempt++;
    if (options.check && attempt % 5 === 0) await options.check();
    await sleep(Math.min(25 * attempt, 200));
  }
  return false;
}
