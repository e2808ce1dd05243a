import type {GpuInstance, GpuInstanceProfile} from './gpu-types.js';

// The boxed tables of `nvidia-smi mig -lgip` / `-lgi` come in 54- to 81-column layouts across
// drivers; rows are matched by their cells, not by column positions.

// "|   0  MIG 1g.5gb          19     7/7        4.75       No     14     0     0   |"
const PROFILE_ROW =
  /^\|\s*(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)\/(\d+)\s+(\d+(?:\.\d+)?)\s+(Yes|No)\s+(\d+)\s+(\d+)\s+(\d+)\s*\|$/;
// "|                                                               1     0     0   |"
const PROFILE_SECOND_ROW = /^\|\s+(\d+)\s+(\d+)\s+(\d+)\s*\|$/;
// "|   0  MIG 1g.5gb            19        9          6:1     |"
const INSTANCE_ROW = /^\|\s*(\d+)\s+MIG\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+):(\d+)\s*\|$/;

function lines(text: string): string[] {
  return text.split('\n').map((line) => line.replace(/\r$/, '').trimEnd());
}

/** Parses `nvidia-smi mig -lgip`: the GPU instance profiles of each MIG-enabled GPU, with free/total. */
export function parseGpuInstanceProfiles(text: string): GpuInstanceProfile[] {
  const profiles: GpuInstanceProfile[] = [];
  let last: GpuInstanceProfile | undefined;
  for (const line of lines(text)) {
    const row = PROFILE_ROW.exec(line);
    if (row) {
      last = {
        gpuIndex: Number(row[1]),
        name: row[2]!,
        id: Number(row[3]),
        free: Number(row[4]),
        total: Number(row[5]),
        memoryGiB: Number(row[6]),
        p2p: row[7] === 'Yes',
        sm: Number(row[8]),
        dec: Number(row[9]),
        enc: Number(row[10]),
        ce: null,
        jpeg: null,
        ofa: null,
      };
      profiles.push(last);
      continue;
    }
    const second = PROFILE_SECOND_ROW.exec(line);
    if (second && last && last.ce === null) {
      last.ce = Number(second[1]);
      last.jpeg = Number(second[2]);
      last.ofa = Number(second[3]);
      continue;
    }
    if (line.startsWith('+')) last = undefined;
  }
  return profiles;
}

/** Parses `nvidia-smi mig -lgi`: the GPU instances that exist, with their IDs and placements. */
export function parseGpuInstances(text: string): GpuInstance[] {
  const instances: GpuInstance[] = [];
  for (const line of lines(text)) {
    const row = INSTANCE_ROW.exec(line);
    if (!row) continue;
    instances.push({
      gpuIndex: Number(row[1]),
      profile: row[2]!,
      profileId: Number(row[3]),
      instanceId: Number(row[4]),
      placementStart: Number(row[5]),
      placementSize: Number(row[6]),
    });
  }
  return instances;
}
