/**
 * `btrfs qgroup show -reF --raw PATH` (btrfs-progs 6.x): the qgroup of a subvolume, its bytes
 * referenced and its limit ("none" when unlimited). Pure: test/fixtures/quota has real output.
 */
export function parseQgroupShow(
  text: string,
): {qgroup: string; referenced: number; limit: number | null} | undefined {
  for (const line of text.split('\n')) {
    const match = /^(\d+\/\d+)\s+(\d+)\s+(\d+)\s+(\d+|none)\s+(\d+|none)/.exec(line.trim());
    if (!match || match[1] === '0/5') continue;
    return {
      qgroup: match[1]!,
      referenced: Number(match[2]),
      limit: match[4] === 'none' ? null : Number(match[4]),
    };
  }
  return undefined;
}
