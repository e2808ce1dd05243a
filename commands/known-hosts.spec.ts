import type {CommandSpec} from '../cli/command-spec.js';
import {settingFlag} from '../cli/spec-parts.js';

/** `sandman known-hosts`: help, arguments and flags (data only); its handler is known-hosts.ts. */
const spec: CommandSpec = {
  id: 'known-hosts',
  summary: 'Print the @cert-authority line that trusts every session of this host',
  description:
    'Add it once to known_hosts (or the file ssh-config names): every session on this host, on any port, ' +
    'then connects with StrictHostKeyChecking=yes and no prompt.',
  examples: [
    '<%= config.bin %> known-hosts >> ~/.ssh/known_hosts',
    '<%= config.bin %> known-hosts --json | jq -r ".lines[]"',
  ],
  flags: Object.fromEntries([settingFlag('sshHost')]),
  fast: true,
  load: () => import('./known-hosts.js'),
};

export default spec;
