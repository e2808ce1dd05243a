import type {SessionRecord} from '../state/state-data.js';

export interface SshConfigOptions {
  alias: string;
  /** The private key on the machine that connects; null for a session made with the user's own key. */
  identityFile: string | null;
  knownHostsFile: string;
}

export interface SshConfigView {
  /** null for the gateway's block, which names no session. */
  session_id: string | null;
  alias: string;
  host_name: string;
  port: number;
  user: string;
  identity_file: string | null;
  known_hosts_file: string;
  expires_at: string | null;
  config: string;
}

/**
 * An OpenSSH `Host` block for one session, as plain ssh, scp, sftp and VS Code Remote-SSH read it.
 * Host keys are checked strictly against the host CA's line (`sandman known-hosts`), so the same
 * file serves every session of the host, on any port.
 */
export function sshConfig(session: SessionRecord, options: SshConfigOptions): SshConfigView {
  const lines = [
    `# sandman session ${session.id} for ${session.user}, until ${session.expires_at}`,
    `# Once per machine: sandman known-hosts >> ${options.knownHostsFile}`,
    `Host ${options.alias}`,
    `  HostName ${session.ssh_host}`,
    `  Port ${session.ssh_port}`,
    `  User ${session.user}`,
    ...(options.identityFile ? [`  IdentityFile ${options.identityFile}`, '  IdentitiesOnly yes'] : []),
    `  UserKnownHostsFile ${options.knownHostsFile}`,
    '  StrictHostKeyChecking yes',
  ];
  return {
    session_id: session.id,
    alias: options.alias,
    host_name: session.ssh_host,
    port: session.ssh_port,
    user: session.user,
    identity_file: options.identityFile,
    known_hosts_file: options.knownHostsFile,
    expires_at: session.expires_at,
    config: lines.join('\n') + '\n',
  };
}

/**
 * The Host block for the SSH gateway (docs/admin/gateway.md "The SSH gateway"): one address for every session
 * the user will ever have, so it never goes stale; their own key, the gateway's port.
 */
export function gatewaySshConfig(
  user: string,
  gateway: {host: string; port: number},
  options: SshConfigOptions,
): SshConfigView {
  const lines = [
    `# sandman for ${user} through the SSH gateway: connecting starts the session when there is none`,
    `# Once per machine: sandman known-hosts >> ${options.knownHostsFile}`,
    `Host ${options.alias}`,
    `  HostName ${gateway.host}`,
    `  Port ${gateway.port}`,
    `  User ${user}`,
    ...(options.identityFile ? [`  IdentityFile ${options.identityFile}`, '  IdentitiesOnly yes'] : []),
    `  UserKnownHostsFile ${options.knownHostsFile}`,
    '  StrictHostKeyChecking yes',
    // A first connection may wait for its session to start; keepalives hold it open meanwhile.
    '  ServerAliveInterval 30',
  ];
  return {
    session_id: null,
    alias: options.alias,
    host_name: gateway.host,
    port: gateway.port,
    user,
    identity_file: options.identityFile,
    known_hosts_file: options.knownHostsFile,
    expires_at: null,
    config: lines.join('\n') + '\n',
  };
}
