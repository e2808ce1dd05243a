import type {CommandSpec} from '../cli/command-spec.js';

/** `sandman ssh`: help, arguments and flags (data only); its handler is ssh.ts. */
const spec: CommandSpec = {
  id: 'ssh',
  summary: "Open an SSH shell in a user's session (or run one command there)",
  description:
    'Runs the OpenSSH client with the session key, port and host. Everything after -- is the remote command.',
  examples: [
    '<%= config.bin %> ssh alice',
    '<%= config.bin %> ssh alice -- nvidia-smi -L',
    '<%= config.bin %> ssh alice --json -- id -un',
  ],
  args: [{name: 'session', description: 'user name, session ID or unique ID prefix', required: true}],
  variadic: true,
  fast: true,
  load: () => import('./ssh.js'),
};

export default spec;
