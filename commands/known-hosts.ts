import {knownHostsLine} from '../src/ssh/ssh-certificates.js';
import type {Handler} from '../cli/command-spec.js';

/** The line a user adds to known_hosts once to trust every session of this host (swarm: cluster), on any port. */
const knownHosts: Handler = async (_input, context): Promise<{lines: string[]; ca_public_key: string}> => {
  const services = context.services();
  const runtime = await services.runtime();
  const [caPublicKey, hosts] = await Promise.all([
    (await services.hostIdentity()).caPublicKey(),
    // Swarm mode: sessions are reached at their node, by its address or name.
    runtime.hostNames(),
  ]);
  const lines = hosts.map((host) => knownHostsLine(caPublicKey, host));
  for (const line of lines) context.out.log(line);
  return {lines, ca_public_key: caPublicKey};
};
export default knownHosts;
