import {isSandmanError} from '../core/errors.js';
import {resolveJob} from '../jobs/job-view.js';
import {resolveSession} from '../session/resolve.js';
import {findQueued} from '../session/session-queue.js';
import type {StateData} from '../state/state-data.js';

/**
 * What a user login (docs/admin/console-and-sign-in.md "User logins") may do with each API route, by `METHOD /path` as the
 * router names it:
 * - `open`: answers her as anyone (liveness, the OpenAPI document, what she may ask a create for);
 * - `me`: about her (GET /me, GET /whoami);
 * - `own-list`: the answer holds her sessions and queued requests only;
 * - `own-session`: `{id}` must name one of her sessions or queued requests;
 * - `own-create`: a create for herself only, from the image the admin configured;
 * - `own-job`: `{id}` must name one of her batch jobs;
 * - `own-job-create`: a job for herself only (docs/admin/jobs.md).
 * Any route not listed (other users, removal, GPU holders, usage reports, routes added later) is
 * the admin's: refused with 403. Deny by default, so a new route is never open to users by accident.
 */
export type UserAccess =
  'open' | 'me' | 'own-list' | 'own-session' | 'own-create' | 'own-job' | 'own-job-create';

const USER_ROUTES: Readonly<Record<string, UserAccess>> = {
  'GET /healthz': 'open',
  'GET /openapi.json': 'open',
  'GET /gpus/profiles': 'open',
  'GET /gpus/available': 'open',
  'GET /me': 'me',
  'GET /sessions': 'own-list',
  'POST /sessions': 'own-create',
  'GET /sessions/:id': 'own-session',
  'POST /sessions/:id/extend': 'own-session',
  'POST /sessions/:id/stop': 'own-session',
  'POST /sessions/:id/start': 'own-session',
  'POST /sessions/:id/keep': 'own-session',
  'POST /sessions/:id/terminal-link': 'own-session',
  'GET /sessions/:id/terminal': 'own-session',
  'GET /sessions/:id/apps': 'own-session',
  'POST /jobs': 'own-job-create',
  'GET /jobs': 'own-list',
  'GET /jobs/:id': 'own-job',
  'GET /jobs/:id/logs': 'own-job',
  'DELETE /jobs/:id': 'own-job',
};

/** How a user login may use a route (`GET /sessions/:id`), or why it may not. */
export function userAccess(method: string, routePath: string): UserAccess | {refused: string} {
  const access = USER_ROUTES[`${method} ${routePath}`];
  if (access) return access;
  return {
    refused: `${method} ${routePath.replace(/:(\w+)/g, '{$1}')} is for the admin: a user login sees and changes her own sessions and jobs only (GET /me)`,
  };
}

/**
 * The full ID of the session or queued request `reference` names among `user`'s own (ID, her
 * name, or an ID prefix, as the CLI resolves them), or why not. Other users' sessions are never
 * searched, so the answer says nothing about whether they exist.
 */
export function ownSession(
  state: StateData,
  user: string,
  reference: string,
): {id: string} | {refused: string} {
  const refused = {
    refused: `no session of yours is ${JSON.stringify(reference)}: a user login sees and changes her own sessions only`,
  };
  try {
    return {
      id: resolveSession(
        state.sessions.filter((session) => session.user === user),
        reference,
      ).id,
    };
  } catch (error) {
    if (!isSandmanError(error) || error.kind !== 'NOT_FOUND') throw error;
  }
  const queued = findQueued(
    {...state, queue: (state.queue ?? []).filter((entry) => entry.user === user)},
    reference,
  );
  return queued ? {id: queued.id} : refused;
}

/** Why a user login's create body may not be run as it is, or undefined when it may (her own, no image of her choosing). */
export function userCreateRefusal(user: string, body: Record<string, unknown>): string | undefined {
  if (body.user_id !== undefined && body.user_id !== user)
    return `a user login creates sessions for herself only: user_id must be ${JSON.stringify(user)} (or left out)`;
  if (body.image !== undefined)
    return "the image is the admin's choice: a user login's sessions use the configured image";
  return undefined;
}

/**
 * The full ID of the batch job `reference` names among `user`'s own (ID, prefix or name), or why
 * not: as for sessions, other users' jobs are never searched.
 */
export function ownJob(state: StateData, user: string, reference: string): {id: string} | {refused: string} {
  try {
    return {
      id: resolveJob(
        (state.jobs ?? []).filter((job) => job.user === user),
        reference,
      ).id,
    };
  } catch (error) {
    if (!isSandmanError(error) || error.kind !== 'NOT_FOUND') throw error;
    return {
      refused: `no job of yours is ${JSON.stringify(reference)}: a user login sees and changes her own jobs only`,
    };
  }
}

/** Why a user login's job body may not be run as it is (another user's), or undefined. */
export function userJobRefusal(user: string, body: Record<string, unknown>): string | undefined {
  if (body.user_id !== undefined && body.user_id !== user)
    return `a user login submits jobs for herself only: user_id must be ${JSON.stringify(user)} (or left out)`;
  return undefined;
}
