import {invalidInput, notFound} from '../core/errors.js';
import type {SessionRecord} from '../state/state-data.js';

/**
 * Finds a session by full ID, user name, or unique ID prefix, as `docker` resolves container IDs.
 * An ambiguous prefix is an input error that lists the candidates.
 */
export function resolveSession(sessions: readonly SessionRecord[], reference: string): SessionRecord {
  const exact = sessions.find((session) => session.id === reference);
  if (exact) return exact;
  const byUser = sessions.filter((session) => session.user === reference);
  if (byUser.length === 1) return byUser[0]!;
  // A user whose limits allow several sessions (docs/admin/users-and-limits.md "Users and limits"): the ID decides.
  if (byUser.length > 1)
    throw invalidInput(
      `user ${reference} has ${byUser.length} sessions (${byUser.map((session) => session.id).join(', ')}): give the session ID`,
    );
  if (/^[0-9a-f]+$/.test(reference)) {
    const matches = sessions.filter((session) => session.id.startsWith(reference));
    if (matches.length === 1 && matches[0]) return matches[0];
    if (matches.length > 1) {
      throw invalidInput(
        `session ID prefix ${JSON.stringify(reference)} is ambiguous: matches ${matches.map((s) => s.id).join(', ')}`,
      );
    }
  }
  throw notFound(`no session with ID or user ${JSON.stringify(reference)} (see "sandman session ls")`);
}
