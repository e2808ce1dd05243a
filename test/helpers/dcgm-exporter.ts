import {readFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import path from 'node:path';

import {ROOT} from './constants.js';

const FIXTURES = path.join(ROOT, 'test/fixtures/dcgm-exporter');
const capture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');
/** The captured A800 page's MIG series (test/fixtures/dcgm-exporter/SOURCES.md): the template. */
const CAPTURED_GPU = 'GPU-1f027ee8-6e1e-2b8c-0108-3d370e5f0418';

/** A replayed host's MIG device, and the engine's active ratio (0-1) the page reports for it. */
export interface DcgmDevice {
  gpuIndex: number;
  gpuUuid: string;
  gpuInstanceId: number;
  profile: string;
  ratio: number;
}

/**
 * A dcgm-exporter stand-in: a real HTTP server on 127.0.0.1 answering GET /metrics with the
 * captured page (HELP/TYPE lines and label layout as captured), its MIG series moved to the
 * replayed host's devices with the values the test sets (and changes between reaps).
 */
export async function startDcgmExporter(port: number): Promise<{
  url: string;
  set(devices: DcgmDevice[]): void;
  close(): Promise<void>;
}> {
  const engine = capture('a800-x8-mig-3x2g.20gb_dcgm-exporter_gr-engine-active.txt').split('\n');
  const template = engine.find((line) => line.includes('GPU_I_ID="3"'))!;
  let devices: DcgmDevice[] = [];
  const page = () =>
    [
      capture('a800-x8-mig-3x2g.20gb_dcgm-exporter_gpu-util.txt').trimEnd(),
      ...engine.filter((line) => line.startsWith('#')),
      ...devices.map((device) =>
        template
          .replace(
            `gpu="0",UUID="${CAPTURED_GPU}",device="nvidia0"`,
            `gpu="${device.gpuIndex}",UUID="${device.gpuUuid}",device="nvidia${device.gpuIndex}"`,
          )
          .replace(
            'GPU_I_PROFILE="2g.20gb",GPU_I_ID="3"',
            `GPU_I_PROFILE="${device.profile}",GPU_I_ID="${device.gpuInstanceId}"`,
          )
          .replace(/ 0\.000000$/, ` ${device.ratio.toFixed(6)}`),
      ),
    ].join('\n') + '\n';
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {'content-type': 'text/plain; version=0.0.4'}).end(page());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    set: (next) => {
      devices = next;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
