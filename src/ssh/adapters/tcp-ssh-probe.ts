import {connect} from 'node:net';
import {setTimeout as sleep} from 'node:timers/promises';

import type {SshProbe} from '../ssh-probe.js';

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

const CHECK_EVERY_MS = 500;

/**
 * Polls until the port answers with an `SSH-2.0-` banner. Docker's port proxy accepts connections
 * before sshd runs, so a TCP connect alone proves nothing. `check` runs between attempts and may
 * throw to stop early (e.g. the container exited).
 */
export async function waitForSshBanner(options: Parameters<SshProbe['waitForBanner']>[0]): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  let lastCheck = Date.now();
  for (let attempt = 1; Date.now() < deadline; attempt++) {
    const banner = await readSshBanner(
      options.host,
      options.port,
      Math.max(100, Math.min(2000, deadline - Date.now())),
    );
    if (banner?.startsWith('SSH-2.0-')) return true;
    if (options.check && Date.now() - lastCheck >= CHECK_EVERY_MS) {
      await options.check();
      lastCheck = Date.now();
    }
    // sshd usually answers within a second of the start: poll briskly (each try is one local
    // connection; what create waits for past sshd's start is half this gap on average), then
    // back off for slow images.
    await sleep(attempt <= 100 ? 10 : 200);
  }
  return false;
}

export const tcpSshProbe: SshProbe = {waitForBanner: waitForSshBanner};
