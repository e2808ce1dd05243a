import type {IncomingHttpHeaders} from 'node:http';

/** The request headers a browser may send cross-origin that sandman reads (docs/admin/console-and-sign-in.md "In the browser"). */
const ALLOWED_HEADERS = ['authorization', 'content-type'];
const METHODS = 'GET, POST, PATCH, DELETE';
/** The original design's promise: a preflight is cached for 24 hours. */
const PREFLIGHT_MAX_AGE = '86400';

/**
 * CORS for a listed origin: that origin (never `*`), with credentials (the login cookie), the
 * methods, the asked-for headers sandman accepts, and a day's preflight cache. An origin not
 * listed gets no CORS headers, so the browser keeps the response from the page.
 */
export function corsHeaders(
  headers: IncomingHttpHeaders,
  allowedOrigins: readonly string[],
): Record<string, string> {
  const origin = headers.origin;
  if (!origin || !allowedOrigins.includes(origin)) return {};
  const asked = String(headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => ALLOWED_HEADERS.includes(name));
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': METHODS,
    'access-control-allow-headers': (asked.length > 0 ? asked : ALLOWED_HEADERS).join(', '),
    'access-control-max-age': PREFLIGHT_MAX_AGE,
    vary: 'Origin',
  };
}

/**
 * Why a request that a cookie authenticates must not change anything, or undefined when it may
 * (no CSRF): it must come from the console's own origin or a listed one. A browser names the
 * page's origin in `Origin` (always on POST, PATCH, DELETE and WebSocket handshakes); without it,
 * `Sec-Fetch-Site` must say same-origin. A client that sends neither is not a browser, and a
 * forged request cannot come from a browser without them.
 */
export function crossSiteRefusal(
  headers: IncomingHttpHeaders,
  ownOrigin: string,
  allowedOrigins: readonly string[],
): string | undefined {
  const origin = headers.origin;
  if (origin !== undefined) {
    if (origin === ownOrigin || allowedOrigins.includes(origin)) return undefined;
    return `requests from ${origin} may not use the login cookie (apiAllowedOrigins lists the pages that may)`;
  }
  const site = headers['sec-fetch-site'];
  if (site === undefined || site === 'same-origin' || site === 'none') return undefined;
  return `a ${String(site)} request may not use the login cookie`;
}

/** The origin browsers reach this API at: apiPublicUrl's, or the one the request was made to. */
export function ownOrigin(headers: IncomingHttpHeaders, publicUrl: string | undefined): string {
  if (publicUrl) return new URL(publicUrl).origin;
  return `http://${headers.host ?? 'localhost'}`;
}
