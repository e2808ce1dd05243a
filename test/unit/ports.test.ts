import {createServer, type Server} from 'node:net';

import {afterEach, describe, expect, it} from 'vitest';

import {tcpPortProbe} from '../../src/network/adapters/tcp-port-probe.js';
import {allocatePort} from '../../src/network/ports.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listenOn(port: number): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

describe('allocatePort', () => {
  it('takes the lowest port no session holds', async () => {
    const port = await allocatePort({start: 100, end: 110, used: [100, 101, 103], isFree: async () => true});
    expect(port).toBe(102);
  });

  it('skips a port something else on the host listens on', async () => {
    await listenOn(41_000);
    const port = await allocatePort({
      start: 41_000,
      end: 41_005,
      used: [],
      isFree: tcpPortProbe('127.0.0.1'),
    });
    expect(port).toBe(41_001);
  });

  it('fails with exit 5 when the range is exhausted', async () => {
    await listenOn(41_011);
    await expect(
      allocatePort({start: 41_010, end: 41_011, used: [41_010], isFree: tcpPortProbe('127.0.0.1')}),
    ).rejects.toMatchObject({exitCode: 5, message: expect.stringContaining('41010-41011')});
  });
});

describe('tcpPortProbe', () => {
  it('tells a taken port from a free one, and leaves the free one free', async () => {
    await listenOn(41_020);
    const probe = tcpPortProbe('127.0.0.1');
    expect(await probe(41_020)).toBe(false);
    expect(await probe(41_021)).toBe(true);
    expect(await probe(41_021)).toBe(true);
  });
});
