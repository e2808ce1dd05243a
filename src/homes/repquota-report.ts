/**
 * `repquota -P -n MOUNT` (quota-tools 4.x) on an ext4 with project quotas: a project's blocks used
 * and its hard limit, in bytes (1 KiB blocks; a hard limit of 0 is none). The two characters
 * after the id flag a soft (`+-`) or file limit passed. Pure: test/fixtures/quota/xfs-ext4 has the
 * real output of a live ext4.
 */
export function parseRepquotaProject(
  text: string,
  projectId: number,
): {used: number; limit: number | null} | undefined {
  for (const line of text.split('\n')) {
    const match = /^#(\d+)\s+[-+]{2}\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (!match || Number(match[1]) !== projectId) continue;
    const hard = Number(match[4]) * 1024;
    return {used: Number(match[2]) * 1024, limit: hard === 0 ? null : hard};
  }
  return undefined;
}
