import type {ProfileView} from '../../src/gpu/gpu-service.js';
import type {SwarmProfileView} from '../../src/swarm/swarm-gpu-views.js';
import type {Handler} from '../../cli/command-spec.js';
import {loadChalk, renderTable} from '../../cli/output.js';

const gpuProfiles: Handler = async (_input, context): Promise<ProfileView[] | SwarmProfileView[]> => {
  const runtime = await context.services().runtime();
  if (runtime.clusterGpus) {
    const swarm = await runtime.clusterGpus();
    // Swarm mode: the MIG profiles the nodes advertise devices of, per node.
    const views = await swarm.profiles();
    context.out.log(
      await renderTable(
        ['NODE', 'PROFILE', 'DEVICES FREE/TOTAL'],
        views.map((view) => [view.node, view.profile, `${view.devices_free}/${view.devices_total}`]),
        await loadChalk(context.out.colour),
      ),
    );
    return views;
  }
  const profiles = await (await context.services().gpuService()).profiles();
  if (profiles.length === 0) {
    context.out.log(
      'No GPU is in MIG mode: there are no MIG profiles (whole GPUs are handed out with --gpu).',
    );
    return profiles;
  }
  const rows = profiles.map((profile) => [
    profile.gpu_index,
    profile.profile,
    profile.profile_id,
    `${profile.memory_gib} GiB`,
    profile.slices,
    `${profile.devices_free}/${profile.devices_total}`,
    `${profile.instances_free}/${profile.instances_total}`,
  ]);
  context.out.log(
    await renderTable(
      ['GPU', 'PROFILE', 'ID', 'MEMORY', 'SLICES', 'DEVICES FREE/TOTAL', 'INSTANCES FREE/TOTAL'],
      rows,
      await loadChalk(context.out.colour),
    ),
  );
  return profiles;
};
export default gpuProfiles;
