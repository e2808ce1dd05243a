import type {CommandSpec} from '../../cli/command-spec.js';

/** `sandman notify test`: help, arguments and flags (data only); its handler is test.ts. */
const spec: CommandSpec = {
  id: 'notify:test',
  summary: "Send one test notice on each of a user's channels and the admin's webhook",
  description:
    'Her terminals (when she has a running session), her e-mail (smtpUrl and user set --email), her webhook ' +
    '(user set --webhook) and notifyWebhook: each reported ok or failed. Exits 1 when one failed or none is configured.',
  examples: ['<%= config.bin %> notify test alice', '<%= config.bin %> notify test alice --json'],
  args: [{name: 'user', description: 'login name', required: true}],
  fast: true,
  load: () => import('./test.js'),
};

export default spec;
