import type {Config} from '../config.js';
import type {SessionRecord} from '../state/state-data.js';

/** Where this host reaches a port published on `bindAddress`: loopback for a wildcard bind. */
export function localAddress(bindAddress: string): string {
  return ['0.0.0.0', '::'].includes(bindAddress) ? '127.0.0.1' : bindAddress;
}

/**
 * OpenSSH client arguments for reaching a session from the host itself. Each container makes a
 * fresh host key, so host-key checking against known_hosts would only ever warn about a changed key
 * on a reused port; the connection goes to this host's own published port (swarm mode: to the
 * session's node).
 */
export function sshClientArgs(
  session: SessionRecord,
  config: Pick<Config, 'bindAddress' | 'backend'>,
  options: {tty: boolean},
): string[] {
  const host = config.backend === 'swarm' ? session.ssh_host : localAddress(config.bindAddress);
  return [
    ...(session.ssh_private_key_path ? ['-i', session.ssh_private_key_path, '-o', 'IdentitiesOnly=yes'] : []),
    '-p',
    String(session.ssh_port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    ...(options.tty ? ['-t'] : []),
    `${session.user}@${host}`,
  ];
}
