import type {SessionRecord} from '../state/state-data.js';

export interface SshConfigOptions {
  alias: string;
  /** The private key on the machine that connects; null for a session made with the user's own key. */
  identityFile: string | null;
  knownHostsFile: string;
}

export interface SshConfigView {
  session_id: string;
  alias: string;
  host_name: string;
  port: number;
  user: string;
  identity_file: string | null;
  known_hosts_file: string;
  expires_at: string;
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
