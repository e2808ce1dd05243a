import {createRequire} from 'node:module';
import path from 'node:path';

/** Container and network labels, in one place (docs/reference/commands.md: the container). */
export const LABELS = {
  session: 'io.sandman.session',
  user: 'io.sandman.user',
  expiresAt: 'io.sandman.expires-at',
  instance: 'io.sandman.instance',
  /** A batch job's container (docs/admin/jobs.md): its job ID; it carries no session label. */
  job: 'io.sandman.job',
} as const;

/**
 * Labels of the workspace image (images/workspace/Dockerfile sets them; a unit test holds the two
 * together). `sessionFiles`: its entrypoint reads a session's authorized_keys and login banner from
 * a read-only mount, so extend and start rewrite them on the host (docs/development/contributing.md "How the CLI is built").
 */
export const IMAGE_LABELS = {
  image: 'io.sandman.image',
  sessionFiles: 'io.sandman.session-files',
  /** The web apps `image build --app` put in it, by name (docs/admin/apps.md). */
  apps: 'io.sandman.apps',
} as const;

/**
 * Names the state file a container belongs to, so two sandman setups sharing one engine never
 * reap each other's containers. Derived from the state file's absolute path: stable across runs
 * and across a lost state file (its orphans are then still recognised as ours).
 */
export function instanceId(stateFile: string): string {
  // node:crypto loads on the first call only (it costs every read-only command a few ms otherwise).
  const {createHash} = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(path.resolve(stateFile)).digest('hex').slice(0, 12);
}

export function containerName(user: string, sessionId: string): string {
  return `sandman-${user}-${sessionId}`;
}
