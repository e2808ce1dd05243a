import type {InContainerClient} from '../runtime/docker/container-client.js';

/**
 * Writes `message` to every terminal open in a session's container (its /dev/pts): the expiry
 * warning's and the notices' terminal channel (docs/admin/reaper.md "The reaper", "Notifications").
 */
export async function writeToTerminals(
  inContainer: Pick<InContainerClient, 'exec'>,
  containerId: string,
  message: string,
): Promise<void> {
  const result = await inContainer.exec(containerId, [
    'sh',
    '-c',
    'for t in /dev/pts/[0-9]*; do [ -c "$t" ] && printf "%s" "$1" > "$t" 2>/dev/null; done; true',
    'sandman-warn',
    message,
  ]);
  if (result.exitCode !== 0) throw new Error(result.stderr.trim() || `exit ${result.exitCode}`);
}
