/** Compute slices of a MIG profile as nvidia-smi names it: 3 for `3g.20gb`, 2 for `1c.2g.10gb`. */
export function migSlices(profile: string): number | undefined {
  const slices = /^(?:\d+c\.)?(\d+)g\./.exec(profile)?.[1];
  return slices === undefined ? undefined : Number(slices);
}

/** The share of a GPU a MIG profile is: its slices of the most the GPU has (3g on 7: 3/7). */
export function migFraction(profile: string, gpuSlices: number): number | undefined {
  const slices = migSlices(profile);
  return slices !== undefined && gpuSlices > 0 ? slices / gpuSlices : undefined;
}
