import type {AvailableView} from '../../src/gpu/gpu-service.js';
import type {SwarmGpuViews} from '../../src/swarm/swarm-gpu-views.js';
import type {Handler} from '../../cli/command-spec.js';

type SwarmAvailable = Awaited<ReturnType<SwarmGpuViews['available']>>;
import {loadChalk, renderTable} from '../../cli/output.js';

const gpuAvailable: Handler = async (_input, context): Promise<AvailableView | SwarmAvailable> => {
  const runtime = await context.services().runtime();
  if (runtime.clusterGpus) {
    const swarm = await runtime.clusterGpus();
    // Swarm mode: devices on ready, active nodes that no session's task holds.
    const free = await swarm.available();
    if (context.out.json) return free;
    if (free.devices.length === 0) context.out.log('Nothing is free.');
    else
      context.out.log(
        await renderTable(
          ['NODE', 'PROFILE', 'UUID'],
          free.devices.map((device) => [device.node, device.profile, device.uuid]),
          await loadChalk(context.out.colour),
        ),
      );
    return free;
  }
  const available = await (await context.services().gpuService()).available();
  if (context.out.json) return available;
  const chalk = await loadChalk(context.out.colour);
  if (available.devices.length === 0) context.out.log('Nothing is free.');
  else {
    context.out.log(
      await renderTable(
        ['GPU', 'KIND', 'PROFILE', 'MEMORY', 'UUID'],
        available.devices.map((device) => [
          device.gpu_index,
          device.kind === 'mig' ? 'MIG' : 'GPU',
          device.profile ?? '-',
          device.memory_gib === null ? '-' : `${device.memory_gib} GiB`,
          device.uuid,
        ]),
        chalk,
      ),
    );
  }
  if (available.creatable.length > 0) {
    context.out.log('\nCould still be created (dynamic mode):');
    context.out.log(
      await renderTable(
        ['GPU', 'PROFILE', 'COUNT', 'MEMORY'],
        available.creatable.map((item) => [
          item.gpu_index,
          item.profile,
          item.count,
          `${item.memory_gib} GiB`,
        ]),
        chalk,
      ),
    );
  }
  return available;
};
export default gpuAvailable;
