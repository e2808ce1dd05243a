import {knownHostsLine} from '../src/ssh-certificates.js';
import type {Handler} from '../cli/command-spec.js';

/** The line a user adds to known_hosts once to trust every session of this host, on any port. */
const knownHosts: Handler = async (_input, context): Promise<{lines: string[]; ca_public_key: string}> => {
  const services = context.services();
  const [caPublicKey, host] = await Promise.all([
    (await services.hostIdentity()).caPublicKey(),
    services.sshHost(),
  ]);
  const lines = [knownHostsLine(caPublicKey, host)];
  for (const line of lines) context.out.log(line);
  return {lines, ca_public_key: caPublicKey};
};
export default knownHosts;
