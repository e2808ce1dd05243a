import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman user login-link`: help, arguments and flags (data only); its handler is login-link.ts. */
const spec: CommandSpec = {
  id: 'user:login-link',
  summary: 'Print a one-time link that logs a user into the web console as herself',
  description:
    'The link works once, until --ttl (terminalLinkTtl); whoever opens it is logged in (for apiLoginTtl) ' +
    'as that user: her own sessions, limits and budget, no other user’s and no admin action. It is made ' +
    'from apiPublicUrl (docs/admin/console-and-sign-in.md "User logins").',
  examples: [
    '<%= config.bin %> user login-link alice',
    '<%= config.bin %> user login-link alice --ttl 1h --json',
  ],
  args: [{name: 'name', description: 'login name of a registered user', required: true}],
  flags: {
    ttl: {kind: 'string', description: 'how long the link works unless used: 15m, 2h (terminalLinkTtl)'},
  },
  fast: true,
  load: () => import('./login-link.js'),
};

export default spec;
