import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';

import {afterEach, describe, expect, it} from 'vitest';

import {HttpDcgmExporter} from '../../src/gpu/adapters/http-dcgm-exporter.js';

/** The dcgm-exporter adapter against a real HTTP server on 127.0.0.1 (docs/admin/notifications-and-idleness.md "GPU idleness"). */
let server: Server | undefined;
async function close(): Promise<void> {
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise((resolve) => open.close(resolve));
}
afterEach(close);

async function serve(answer: (respond: (status: number, body: string) => void) => void): Promise<string> {
  server = createServer((_request, response) =>
    answer((status, body) => response.writeHead(status, {'content-type': 'text/plain'}).end(body)),
  );
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

describe('HttpDcgmExporter', () => {
  it('reads the page, refuses an HTTP error, and gives up on a server that does not answer within its timeout', async () => {
    const page = 'DCGM_FI_DEV_GPU_UTIL{gpu="1"} 0\n';
    expect(await new HttpDcgmExporter(await serve((respond) => respond(200, page))).metrics()).toBe(page);
    await close();
    const broken = await serve((respond) => respond(503, 'busy'));
    await expect(new HttpDcgmExporter(broken).metrics()).rejects.toThrow(`${broken} answered HTTP 503`);
    await close();
    const hanging = await serve(() => undefined);
    const started = Date.now();
    await expect(new HttpDcgmExporter(hanging, 300).metrics()).rejects.toThrow(
      /^cannot read http:\/\/127\.0\.0\.1:\d+\/metrics: /,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
