import type {GpuView} from '../../src/gpu/gpu-service.js';
import type {SwarmNodeView} from '../../src/swarm/swarm-gpu-views.js';
import type {CommandContext, Handler} from '../../cli/command-spec.js';
import {loadChalk, renderTable} from '../../cli/output.js';

const value = (number: number | null, unit = '') => (number === null ? '-' : `${number}${unit}`);

const gpuLs: Handler = async (_input, context): Promise<GpuView[] | SwarmNodeView[]> => {
  const runtime = await context.services().runtime();
  if (runtime.clusterGpus) return swarmLs(await (await runtime.clusterGpus()).list(), context);
  const gpus = await (await context.services().gpuService()).list();
  if (context.out.json) return gpus;
  if (gpus.length === 0) {
    context.out.log(`No GPUs: nvidia-smi (${context.settings().nvidiaSmi}) is not installed or sees none.`);
    return gpus;
  }
  const chalk = await loadChalk(context.out.colour);
  const rows = gpus.map((gpu) => [
    gpu.index,
    gpu.name,
    `${value(gpu.memory_used_mib)}/${value(gpu.memory_total_mib)} MiB`,
    value(gpu.utilization_percent, '%'),
    value(gpu.temperature_c, 'C'),
    `${value(gpu.power_draw_w)}/${value(gpu.power_limit_w)} W`,
    gpu.mig_mode ?? 'n/a',
    gpu.mig_mode === 'Enabled' ? `${gpu.mig_devices.length} MIG` : (gpu.session_user ?? '-'),
    gpu.uuid,
  ]);
  context.out.log(
    await renderTable(
      ['GPU', 'NAME', 'MEMORY', 'UTIL', 'TEMP', 'POWER', 'MIG', 'HELD BY', 'UUID'],
      rows,
      chalk,
    ),
  );
  const devices = gpus.flatMap((gpu) => gpu.mig_devices.map((device) => ({gpu, device})));
  if (devices.length > 0) {
    context.out.log('');
    context.out.log(
      await renderTable(
        ['GPU', 'DEVICE', 'PROFILE', 'MEMORY', 'SESSION', 'USER', 'UUID'],
        devices.map(({gpu, device}) => [
          gpu.index,
          device.device_index,
          device.profile,
          value(device.memory_gib, ' GiB'),
          device.session_id ?? '-',
          device.session_user ?? '-',
          device.uuid,
        ]),
        chalk,
      ),
    );
  }
  return gpus;
};
export default gpuLs;

/** Swarm mode: every node, and each device it advertises with the session holding it. */
async function swarmLs(nodes: SwarmNodeView[], context: CommandContext): Promise<SwarmNodeView[]> {
  if (context.out.json) return nodes;
  const chalk = await loadChalk(context.out.colour);
  context.out.log(
    await renderTable(
      ['NODE', 'ADDRESS', 'STATE', 'AVAILABILITY', 'ROLE', 'DEVICES'],
      nodes.map((node) => [
        node.node,
        node.address,
        node.state,
        node.availability,
        node.role,
        node.devices.length,
      ]),
      chalk,
    ),
  );
  const devices = nodes.flatMap((node) => node.devices);
  if (devices.length > 0) {
    context.out.log('');
    context.out.log(
      await renderTable(
        ['NODE', 'PROFILE', 'SESSION', 'USER', 'UUID'],
        devices.map((device) => [
          device.node,
          device.profile,
          device.session_id ?? '-',
          device.session_user ?? '-',
          device.uuid,
        ]),
        chalk,
      ),
    );
  }
  return nodes;
}
