import type {CommandSpec} from '../cli/command-spec.js';
import {SESSION_ARG} from '../cli/spec-parts.js';

/** `sandman ssh-config`: help, arguments and flags (data only); its handler is ssh-config.ts. */
const spec: CommandSpec = {
  id: 'ssh-config',
  summary: 'Print an OpenSSH Host block for a session (plain ssh, scp, sftp, VS Code Remote-SSH)',
  examples: [
    '<%= config.bin %> ssh-config alice >> ~/.ssh/config && ssh sandman-alice',
    '<%= config.bin %> ssh-config alice --identity-file ~/.ssh/sandman-alice --json',
    '<%= config.bin %> ssh-config alice --gateway --identity-file ~/.ssh/id_ed25519',
  ],
  args: [SESSION_ARG],
  flags: {
    gateway: {
      kind: 'boolean',
      description:
        "through the SSH gateway: USER's block for every session they will have (no session needed)",
    },
    alias: {kind: 'string', description: 'the Host name to connect with (default sandman-USER)'},
    'identity-file': {
      kind: 'string',
      description:
        "the private key's path on the machine that connects (default: the session key's path here)",
    },
    'known-hosts-file': {
      kind: 'string',
      description: 'where the connecting machine keeps the known-hosts line',
      default: '~/.ssh/known_hosts',
    },
  },
  fast: true,
  load: () => import('./ssh-config.js'),
};

export default spec;
