import {describe, expect, it} from 'vitest';

import {corsHeaders, crossSiteRefusal, ownOrigin} from '../../cli/http/browser-policy.js';
import {loginCookie} from '../../cli/http/login-cookie.js';
import {WebAccess} from '../../src/web/web-access.js';
import {InMemoryWebAccessStore} from '../fakes/in-memory-web-access-store.js';

/** Browser logins, terminal links, CORS and the CSRF rule (docs/admin/console-and-sign-in.md "In the browser"), with an in-memory store. */

function access(start = Date.parse('2026-12-03T10:00:00Z')) {
  const clock = {time: start, now: () => new Date(clock.time)};
  const store = new InMemoryWebAccessStore();
  return {store, clock, web: new WebAccess(store, clock)};
}

const HOUR = 3_600_000;

describe('logins', () => {
  it('a cookie works until it expires or is logged out; the store keeps only its hash', async () => {
    const {store, clock, web} = access();
    const {cookie, expiresAt} = await web.login({kind: 'admin'}, 12 * HOUR);
    expect(expiresAt.toISOString()).toBe('2026-12-03T22:00:00.000Z');
    expect(JSON.stringify(store.data)).not.toContain(cookie);
    expect(await web.check(cookie)).toEqual({kind: 'admin'});
    expect(await web.check(cookie.slice(0, -1) + 'x')).toBeUndefined();
    expect(await web.check(undefined)).toBeUndefined();
    clock.time += 12 * HOUR;
    expect(await web.check(cookie)).toBeUndefined();
    const second = await web.login({kind: 'admin'}, HOUR);
    await web.logout(second.cookie);
    expect(await web.check(second.cookie)).toBeUndefined();
    // The expired login was dropped at the next change.
    expect(Object.keys(store.data.logins)).toEqual([]);
  });
});

describe('terminal links', () => {
  const session = {id: 's1', expires_at: '2026-12-03T10:30:00Z'};
  const ends = (id: string) => (id === 's1' ? session.expires_at : undefined);

  it('works once, for that session only, and its login ends with the session', async () => {
    const {web} = access();
    const {token, expiresAt} = await web.makeLink(session, 15 * 60_000, 'alice');
    expect(expiresAt.toISOString()).toBe('2026-12-03T10:15:00.000Z');
    const used = await web.redeem(token, ends, 12 * HOUR);
    expect(used).toMatchObject({grant: {kind: 'terminal', session: 's1'}});
    if (!('cookie' in used)) throw new Error('not redeemed');
    expect(used.expiresAt.toISOString()).toBe('2026-12-03T10:30:00.000Z');
    expect(await web.check(used.cookie)).toEqual({kind: 'terminal', session: 's1'});
    expect(await web.redeem(token, ends, 12 * HOUR)).toEqual({refused: 'used'});
    expect(await web.redeem('nonsense', ends, 12 * HOUR)).toEqual({refused: 'unknown'});
  });

  it('expires at its TTL or at the session’s end, whichever is first, and when the session is gone', async () => {
    const {clock, web} = access();
    const long = await web.makeLink(session, 2 * HOUR, 'alice');
    expect(long.expiresAt.toISOString()).toBe('2026-12-03T10:30:00.000Z');
    const gone = await web.makeLink(session, HOUR, 'alice');
    expect(await web.redeem(gone.token, () => undefined, HOUR)).toEqual({refused: 'expired'});
    clock.time += 31 * 60_000;
    expect(await web.redeem(long.token, ends, HOUR)).toEqual({refused: 'expired'});
  });
});

describe('CORS and CSRF', () => {
  const listed = ['https://portal.example.org'];

  it('a listed origin gets itself, credentials, the asked headers sandman takes and a day of preflight cache', () => {
    expect(
      corsHeaders(
        {origin: 'https://portal.example.org', 'access-control-request-headers': 'Content-Type, X-Evil'},
        listed,
      ),
    ).toEqual({
      'access-control-allow-origin': 'https://portal.example.org',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, PATCH, DELETE',
      'access-control-allow-headers': 'content-type',
      'access-control-max-age': '86400',
      vary: 'Origin',
    });
    expect(corsHeaders({origin: 'https://evil.example.com'}, listed)).toEqual({});
    expect(corsHeaders({}, listed)).toEqual({});
  });

  it('a cookie may change things only from the console’s own origin or a listed one', () => {
    const own = ownOrigin({host: 'gpu1:8443'}, undefined);
    expect(own).toBe('http://gpu1:8443');
    expect(ownOrigin({host: 'x'}, 'https://gpu1.example.org:8443/sandman')).toBe(
      'https://gpu1.example.org:8443',
    );
    expect(crossSiteRefusal({origin: own}, own, listed)).toBeUndefined();
    expect(crossSiteRefusal({origin: 'https://portal.example.org'}, own, listed)).toBeUndefined();
    expect(crossSiteRefusal({origin: 'https://evil.example.com'}, own, listed)).toMatch(
      /may not use the login cookie/,
    );
    expect(crossSiteRefusal({origin: 'null'}, own, listed)).toMatch(/may not use/);
    expect(crossSiteRefusal({'sec-fetch-site': 'cross-site'}, own, listed)).toMatch(/cross-site/);
    expect(crossSiteRefusal({'sec-fetch-site': 'same-origin'}, own, listed)).toBeUndefined();
    // Neither header: not a browser (curl with a cookie), which no other site can make send it.
    expect(crossSiteRefusal({}, own, listed)).toBeUndefined();
  });

  it('the login cookie is HttpOnly and SameSite=Lax, Secure on https', () => {
    const when = new Date('2026-12-03T22:00:00Z');
    expect(loginCookie('abc', when, false)).toBe(
      'sandman_login=abc; Path=/; Expires=Thu, 03 Dec 2026 22:00:00 GMT; HttpOnly; SameSite=Lax',
    );
    expect(loginCookie('abc', when, true)).toMatch(/; Secure/);
  });
});
