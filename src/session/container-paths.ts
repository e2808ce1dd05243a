/** Where a session container's sshd finds what sandman puts into it (images/workspace/entrypoint.sh). */
import type {ContainerFile} from '../runtime/docker/container-client.js';
import {HOST_KEY_FILES} from '../ssh/key-store.js';
import type {HostCredentials} from '../ssh/host-identity.js';
import type {SessionRecord} from '../state/state-data.js';

const HOST_KEY_DIR = '/etc/ssh/sandman';
/** Where sshd in the container finds what sandman puts there (images/workspace/entrypoint.sh). */
export const CONTAINER_PATHS = {
  hostKeyDir: HOST_KEY_DIR,
  hostKey: `${HOST_KEY_DIR}/${HOST_KEY_FILES.privateKey}`,
  hostCertificate: `${HOST_KEY_DIR}/${HOST_KEY_FILES.certificate}`,
  authorizedKeys: (user: string) => `/etc/ssh/sandman_authorized_keys/${user}`,
  motd: '/etc/motd',
  /** The session files directory (an image labelled IMAGE_LABELS.sessionFiles reads it). */
  sessionFilesDir: '/etc/sandman/session',
};

/** The keys a session's sshd accepts: the user's, and the gateway's line when it has one. */
export function withGatewayKey(authorizedKeys: string, record: Pick<SessionRecord, 'gateway_key'>): string {
  return [authorizedKeys, record.gateway_key ?? ''].filter((keys) => keys.trim() !== '').join('\n');
}

/**
 * Where a container's sshd finds its host key and certificate: the session's host key directory,
 * mounted read-only (one host), or files put into the container (Swarm mode).
 */
export type HostKeyPlace = {dir: string} | {credentials: HostCredentials};

export function hostKeyFiles(credentials: HostCredentials): ContainerFile[] {
  return [
    {path: CONTAINER_PATHS.hostKey, content: credentials.privateKey, mode: 0o600},
    {path: CONTAINER_PATHS.hostCertificate, content: credentials.certificate, mode: 0o644},
  ];
}
