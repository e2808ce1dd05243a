import type {WebhookPoster} from '../channels.js';

/** Webhooks with Node's fetch, each request bounded by AbortSignal.timeout (docs/admin/notifications-and-idleness.md "Notifications"). */
export const fetchWebhookPoster: WebhookPoster = {
  async post(url, body, timeoutMs) {
    const response = await request(url, timeoutMs, {
      method: 'POST',
      headers: {'content-type': 'application/json'},
      body: JSON.stringify(body),
    });
    // The answer is read (and so the connection freed) but its text is only a hint.
    const answer = (await response.text().catch(() => '')).trim().slice(0, 200);
    if (!response.ok) throw new Error(`HTTP ${response.status}${answer ? `: ${answer}` : ''}`);
  },
  async reach(url, timeoutMs) {
    const response = await request(url, timeoutMs, {method: 'HEAD'});
    return response.status;
  },
};

async function request(url: string, timeoutMs: number, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, {...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs)});
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError')
      throw new Error(`no answer within ${timeoutMs / 1000}s`, {cause: error});
    const cause = (error as {cause?: {code?: string; message?: string}}).cause;
    throw new Error(cause?.code ?? cause?.message ?? (error as Error).message, {cause: error});
  }
}
