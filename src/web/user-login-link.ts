import {parseDuration} from '../core/duration.js';
import {invalidInput, notFound} from '../core/errors.js';
import type {StateStore} from '../state/state-store.js';
import {linkUrl} from './terminal-link.js';
import type {WebAccess} from './web-access.js';

/**
 * A one-time console login for one registered user (`sandman user login-link`, the in-session
 * `sandman web`; docs/admin/console-and-sign-in.md "User logins"): `<publicUrl>/t/<secret>`, working once until `ttl`
 * (default terminalLinkTtl). Opening it logs the browser in as that user (her own sessions only).
 */
export async function createUserLoginLink(
  deps: {access: WebAccess; store: Pick<StateStore, 'read'>; defaultTtl: number},
  request: {user: string; ttl?: string; publicUrl: string | undefined; madeBy: string},
): Promise<{url: string; expires_at: string}> {
  if (!request.publicUrl)
    throw invalidInput(
      'set apiPublicUrl to the URL browsers reach the API at (e.g. "sandman setup --api-public-url https://gpu1.example.org:8443"): links are made from it',
    );
  if (!(await deps.store.read()).users[request.user]?.added_at)
    throw notFound(`user ${request.user} is not registered (see "sandman user ls")`);
  const ttl = request.ttl === undefined ? deps.defaultTtl : parseDuration(request.ttl, 'link TTL');
  const {token, expiresAt} = await deps.access.makeUserLink(request.user, ttl, request.madeBy);
  return {url: linkUrl(request.publicUrl, token), expires_at: expiresAt.toISOString()};
}
