import path from 'node:path';

import {execa} from 'execa';

import {sshRun, type Sandbox} from './sandbox.js';

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

/** quotaMode loop with a 50 MiB workspaceQuota: each home an ext4 image of that size. */
export const LOOP_QUOTA_ENV = {SANDMAN_QUOTA_MODE: 'loop', SANDMAN_WORKSPACE_QUOTA: '50m'};

/** After a loop test: the sessions removed and the users' home images unmounted, then the sandbox. */
export async function removeLoopSandbox(sandbox: Sandbox, users: string[]): Promise<void> {
  await sandbox.run(['session', 'rm', '--all', '--yes'], {env: LOOP_QUOTA_ENV});
  for (const user of users) await execa('umount', [path.join(sandbox.workspaceRoot, user)], {reject: false});
  await sandbox.cleanup();
}
