import {parseDuration} from '../core/duration.js';
import {conflict} from '../core/errors.js';
import type {SessionView} from '../session/session-view.js';
import type {WebAccess} from './web-access.js';

/**
 * A one-time browser terminal link for one session (`session terminal`, `POST
 * /sessions/{id}/terminal-link`; docs/admin/console-and-sign-in.md "In the browser"): `<publicUrl>/t/<secret>`, working once,
 * until `ttl` (default terminalLinkTtl) or the session's end, whichever is first.
 */
export async function terminalLink(
  deps: {access: WebAccess; defaultTtl: number},
  session: Pick<SessionView, 'session_id' | 'status' | 'expires_at'>,
  request: {ttl?: string; publicUrl: string; madeBy: string},
): Promise<{session_id: string; url: string; expires_at: string}> {
  if (session.status !== 'running' && session.status !== 'stopped')
    throw conflict(`session ${session.session_id} is ${session.status}: it has no terminal to link to`);
  const ttl = request.ttl === undefined ? deps.defaultTtl : parseDuration(request.ttl, 'link TTL');
  const {token, expiresAt} = await deps.access.makeLink(
    {id: session.session_id, expires_at: session.expires_at},
    ttl,
    request.madeBy,
  );
  return {
    session_id: session.session_id,
    url: linkUrl(request.publicUrl, token),
    expires_at: expiresAt.toISOString(),
  };
}

/** A one-time link's URL (terminal or user login): the API's `GET /t/{secret}` at the public URL. */
export function linkUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/t/${token}`;
}
