/** Results of `nvidia-smi mig -cgi ... -C`, `-dci` and `-dgi`, read from their one-line messages. */

export interface CreatedInstance {
  gpuIndex: number;
  gpuInstanceId: number;
  profile: string;
  profileId: number;
  /** Present when `-C` also created the default compute instance. */
  computeInstanceId: number | null;
}

// "Successfully created GPU instance ID  5 on GPU  0 using profile MIG 1g.24gb (ID 15)"
const CREATED_GI =
  /^Successfully created GPU instance ID\s+(\d+) on GPU\s+(\d+) using profile MIG (\S+) \(ID\s+(\d+)\)/;
// "Successfully created compute instance ID  0 on GPU  0 GPU instance ID  5 using profile MIG 1g.24gb (ID  7)"
const CREATED_CI =
  /^Successfully created compute instance ID\s+(\d+) on GPU\s+(\d+) GPU instance ID\s+(\d+) using profile/;
// "Unable to create a GPU instance on GPU  0 using profile 20: Insufficient Resources"
// "Failed to destroy GPU instances: In use by another client"
const FAILURE = /^(?:Unable to|Failed to)[^:]*:\s*(.+?)\s*$/;

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, '').trim())
    .filter(Boolean);
}

export function parseCreatedInstances(text: string): CreatedInstance[] {
  const created: CreatedInstance[] = [];
  for (const line of lines(text)) {
    const gi = CREATED_GI.exec(line);
    if (gi) {
      created.push({
        gpuInstanceId: Number(gi[1]),
        gpuIndex: Number(gi[2]),
        profile: gi[3]!,
        profileId: Number(gi[4]),
        computeInstanceId: null,
      });
      continue;
    }
    const ci = CREATED_CI.exec(line);
    if (ci) {
      const owner = created.find(
        (item) => item.gpuInstanceId === Number(ci[3]) && item.gpuIndex === Number(ci[2]),
      );
      if (owner) owner.computeInstanceId = Number(ci[1]);
    }
  }
  return created;
}

/** The reason nvidia-smi gave for a failed MIG command ("Insufficient Resources", ...), if any. */
export function migFailureReason(text: string): string | undefined {
  for (const line of lines(text)) {
    const failure = FAILURE.exec(line);
    if (failure) return failure[1];
  }
  return undefined;
}

export function countDestroyed(text: string, what: 'compute' | 'GPU'): number {
  const pattern =
    what === 'compute'
      ? /^Successfully destroyed compute instance ID/
      : /^Successfully destroyed GPU instance ID/;
  return lines(text).filter((line) => pattern.test(line)).length;
}
