import {readFile} from 'node:fs/promises';
import path from 'node:path';

import {cpuSecondsFrom, parseProcCgroup, type ContainerActivity} from '../activity.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** cgroup v1 and v2 through /proc and /sys/fs/cgroup (no docker exec, no daemon). */
export const cgroupActivity: ContainerActivity = {
  async cpuSeconds(pid) {
    const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    const {v1, v2} = parseProcCgroup(text);
    const cpuacct = v1.get('cpuacct');
    if (cpuacct !== undefined) {
      // v1 mounts cpuacct alone or together with cpu, depending on the distribution.
      for (const mount of ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu']) {
        const usage = await readFile(path.join(CGROUP_ROOT, mount, cpuacct, 'cpuacct.usage'), 'utf8').catch(
          () => undefined,
        );
        if (usage !== undefined) return cpuSecondsFrom('cpuacct.usage', usage);
      }
    }
    if (v2 !== undefined) {
      const stat = await readFile(path.join(CGROUP_ROOT, v2, 'cpu.stat'), 'utf8').catch(() => undefined);
      if (stat !== undefined) return cpuSecondsFrom('cpu.stat', stat);
    }
    return undefined;
  },

  async inContainer(pid, containerId) {
    const text = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    return text.includes(containerId);
  },
};
