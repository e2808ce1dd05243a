/** One line of /proc/self/mountinfo, as far as quotas care (proc(5)). */
export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  /** Per-mount options and the filesystem's own (super) options together. */
  options: string[];
}

/** Parses /proc/self/mountinfo; octal escapes in paths (`\040` for a space) are decoded. */
export function parseMountinfo(text: string): MountEntry[] {
  const unescape = (value: string) =>
    value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      const [before, after] = line.split(' - ');
      if (!before || !after) return [];
      const fields = before.split(' ');
      const [fsType = '', source = '', superOptions = ''] = after.split(' ');
      return [
        {
          mountPoint: unescape(fields[4] ?? ''),
          fsType,
          source: unescape(source),
          options: [...(fields[5] ?? '').split(','), ...superOptions.split(',')].filter(Boolean),
        },
      ];
    });
}

/** The mount a path lives on: the longest mount point that is a prefix of it. */
export function mountOf(entries: readonly MountEntry[], file: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const entry of entries) {
    const point = entry.mountPoint;
    const inside = file === point || file.startsWith(point.endsWith('/') ? point : `${point}/`);
    if (inside && (!best || point.length >= best.mountPoint.length)) best = entry;
  }
  return best;
}
