import {formatBytes} from '../core/byte-size.js';
import {dependencyUnavailable} from '../core/errors.js';
import type {HomeQuotas, QuotaChoice} from './home-quotas.js';

/**
 * The quota mechanism for a home of `limit` bytes, or exit 6 saying why none can enforce it and
 * how to fix that (docs/admin/disk-quotas.md); undefined when no quota applies.
 */
// Its own module: user commands use it, and session-context would load the session's SSH code.
export async function quotaFor(
  deps: {homeQuotas?: () => Promise<{choice: QuotaChoice; quotas?: HomeQuotas}>},
  limit: {value: number | undefined; source: string},
): Promise<HomeQuotas | undefined> {
  if (limit.value === undefined) return undefined;
  const what = quotaWords({value: limit.value, source: limit.source});
  const found = await deps.homeQuotas?.();
  if (!found?.quotas)
    throw dependencyUnavailable(
      `${what} cannot be enforced: ${found?.choice.why ?? 'no quota mechanism'}; ${found?.choice.fix ?? ''}`.trim(),
    );
  return found.quotas;
}

/** A quota in refusals: `a disk quota of 50 MiB (from setting)`. */
export function quotaWords(limit: {value: number; source: string}): string {
  return `a disk quota of ${formatBytes(limit.value)} (from ${limit.source})`;
}
