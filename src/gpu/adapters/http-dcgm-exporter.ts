import type {DcgmExporter} from '../dcgm-exporter.js';

/** How long one read may take: the reaper goes on without a sample rather than wait. */
const TIMEOUT_MS = 3000;

/** dcgm-exporter over HTTP (Node's fetch), as Prometheus scrapes it. */
export class HttpDcgmExporter implements DcgmExporter {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  async metrics(): Promise<string> {
    const response = await fetch(this.url, {
      signal: AbortSignal.timeout(this.timeoutMs),
      headers: {accept: 'text/plain'},
    }).catch((error: unknown) => {
      const cause = (error as {cause?: {code?: string}}).cause?.code;
      throw new Error(`cannot read ${this.url}: ${cause ?? (error as Error).message}`);
    });
    if (!response.ok) throw new Error(`${this.url} answered HTTP ${response.status}`);
    return response.text();
  }
}
