/**
 * What a session's processes did, read from the host without entering the container (docs/admin/reaper.md "The reaper": idle sessions): CPU time from the container's cgroup, GPU compute processes by
 * the cgroup they run in.
 */
export interface ContainerActivity {
  /** CPU time the container's cgroup has used since it started (seconds), from its main process. */
  cpuSeconds(pid: number): Promise<number | undefined>;
  /** Whether host process `pid` runs in the container with this ID. */
  inContainer(pid: number, containerId: string): Promise<boolean>;
}

export type ActivityReason = 'ssh' | 'cpu' | 'gpu';

/** A `/proc/<pid>/cgroup` file: cgroup v1 controllers and their paths, and the v2 path. */
export function parseProcCgroup(text: string): {v1: Map<string, string>; v2?: string} {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, cgroupPath] = match;
    if (id === '0' && controllers === '') v2 = cgroupPath;
    else for (const controller of controllers!.split(',')) v1.set(controller, cgroupPath!);
  }
  return {v1, v2};
}

/** CPU seconds from cgroup v1 `cpuacct.usage` (nanoseconds) or v2 `cpu.stat` (usage_usec). */
export function cpuSecondsFrom(file: 'cpuacct.usage' | 'cpu.stat', text: string): number | undefined {
  if (file === 'cpuacct.usage') {
    const nanoseconds = Number(text.trim());
    return Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : undefined;
  }
  const usec = /^usage_usec (\d+)$/m.exec(text)?.[1];
  return usec === undefined ? undefined : Number(usec) / 1e6;
}

/** Host PIDs of GPU compute processes from `nvidia-smi --query-compute-apps=pid,...` (CSV, any header). */
export function parseComputeAppPids(text: string): number[] {
  const lines = text
    .split('\n')
    .map((line) => line.replace(/\r$/, '').trim())
    .filter(Boolean);
  if (lines.length === 0) return [];
  const header = lines[0]!.split(',').map((cell) => cell.trim());
  const column = header.includes('pid') ? header.indexOf('pid') : 0;
  const rows = header.includes('pid') ? lines.slice(1) : lines;
  return rows.flatMap((line) => {
    const pid = Number(line.split(',')[column]?.trim());
    return Number.isInteger(pid) && pid > 0 ? [pid] : [];
  });
}
