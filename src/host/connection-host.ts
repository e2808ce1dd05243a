import type {Config} from '../config/config.js';

/**
 * The host name printed in connection details and put in a session's record: the sshHost setting,
 * else this host's FQDN (asked only then; resolving it can take a DNS round trip).
 */
export async function connectionHost(
  config: Pick<Config, 'sshHost'>,
  fqdn: () => Promise<string>,
): Promise<string> {
  return config.sshHost ?? fqdn();
}
