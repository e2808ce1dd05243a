import {sshRun} from './sandbox.js';

export const MiB = 1024 * 1024;

/** A created session as `session create --json` reports what these tests use of it. */
export interface Created {
  session_id: string;
  container_id: string;
  ssh_port: number;
  ssh_private_key_path: string;
  uid: number;
}

/** dd of `mib` MiB into the home over SSH as the user: dd's output, then "rc=" its exit code. */
export async function fill(session: Created, user: string, mib: number, name = 'big'): Promise<string> {
  const result = await sshRun(
    session.ssh_private_key_path,
    session.ssh_port,
    user,
    `dd if=/dev/zero of=~/${name} bs=1M count=${mib} 2>&1; rc=$?; sync; echo "rc=$rc"`,
  );
  return result.stdout;
}
