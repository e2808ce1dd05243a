import {utils} from 'ssh2';

/** The wire form of an OpenSSH public key line: what a host verifier compares (gateway, terminal). */
export function publicBlob(line: string): Buffer | undefined {
  const parsed = utils.parseKey(line);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key && !(key instanceof Error) ? key.getPublicSSH() : undefined;
}
