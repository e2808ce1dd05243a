import {ownJob, ownSession, userAccess, userCreateRefusal, userJobRefusal} from '../../src/web/user-scope.js';
import type {Services} from '../services.js';

/**
 * A user login's request (docs/admin/console-and-sign-in.md "User logins") before its route runs: refused (403, the reason)
 * when it reaches beyond her own sessions, else with `{id}` resolved to her session's full ID and
 * a create's `user_id` set to her. Her login ends when her registration does.
 */
export async function guardUserRequest(
  services: Pick<Services, 'store'>,
  user: string,
  request: {method: string; routePath: string; params: Record<string, string | undefined>; body: unknown},
): Promise<{refused: string} | {params: Record<string, string | undefined>; body: unknown}> {
  const access = userAccess(request.method, request.routePath);
  if (typeof access === 'object') return access;
  const state = await (await services.store()).read();
  if (!state.users[user]?.added_at)
    return {refused: `user ${user} is no longer registered: this login no longer works`};
  if (access === 'own-session') {
    const own = ownSession(state, user, request.params.id ?? '');
    if ('refused' in own) return own;
    return {params: {...request.params, id: own.id}, body: request.body};
  }
  if (access === 'own-job') {
    const own = ownJob(state, user, request.params.id ?? '');
    if ('refused' in own) return own;
    return {params: {...request.params, id: own.id}, body: request.body};
  }
  if (
    (access === 'own-create' || access === 'own-job-create') &&
    typeof request.body === 'object' &&
    request.body !== null &&
    !Array.isArray(request.body)
  ) {
    const body = request.body as Record<string, unknown>;
    const refused = access === 'own-create' ? userCreateRefusal(user, body) : userJobRefusal(user, body);
    if (refused) return {refused};
    return {params: request.params, body: {...body, user_id: user}};
  }
  return {params: request.params, body: request.body};
}
