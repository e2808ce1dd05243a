import type {CommandSpec} from '../../cli/command-spec.js';
import {SESSION_ARG} from '../../cli/spec-parts.js';

/** `sandman session terminal`: help, arguments and flags (data only); its handler is terminal.ts. */
const spec: CommandSpec = {
  id: 'session:terminal',
  summary: 'Print a one-time link to a browser terminal in a session',
  description:
    'The link works once, until --ttl (terminalLinkTtl) or the session’s end; whoever opens it gets a shell ' +
    'in that one session in the browser, with no account and no SSH client. It is made from apiPublicUrl ' +
    '(docs/admin/console-and-sign-in.md "In the browser").',
  examples: [
    '<%= config.bin %> session terminal alice',
    '<%= config.bin %> session terminal 7f3a --ttl 1h --json',
  ],
  args: [SESSION_ARG],
  flags: {
    ttl: {kind: 'string', description: 'how long the link works unless used: 15m, 2h (terminalLinkTtl)'},
  },
  fast: true,
  load: () => import('./terminal.js'),
};

export default spec;
