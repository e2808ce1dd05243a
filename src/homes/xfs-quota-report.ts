/**
 * `xfs_quota -x -c 'report -p -n -b' MOUNT` (xfsprogs 6.x): a project's blocks used and its hard
 * limit, in bytes (the report counts 1 KiB blocks; a hard limit of 0 is none). Pure:
 * test/fixtures/quota/xfs-ext4 has the real output of a live XFS.
 */
export function parseXfsProjectReport(
  text: string,
  projectId: number,
): {used: number; limit: number | null} | undefined {
  for (const line of text.split('\n')) {
    const match = /^#(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (!match || Number(match[1]) !== projectId) continue;
    const hard = Number(match[4]) * 1024;
    return {used: Number(match[2]) * 1024, limit: hard === 0 ? null : hard};
  }
  return undefined;
}
