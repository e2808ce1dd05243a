import type {StopResult} from '../../src/session/session-service.js';
import {formatDuration} from '../../src/core/duration.js';
import type {Handler} from '../../cli/command-spec.js';

/** `session stop`: the container stops and keeps its layer; the GPU goes back (docs/admin/sessions.md "Stop and start"). */
const stop: Handler = async ({args}, context): Promise<StopResult> => {
  const services = context.services();
  const result = await (await services.sessionService()).stop(args.session!);
  const {config} = services;
  const left = formatDuration(result.remaining_ms ?? 0);
  context.out.log(
    result.already
      ? `Session ${result.session_id} for ${result.ssh_user} is already stopped (${left} left)`
      : `Session ${result.session_id} for ${result.ssh_user} stopped: ${left} of its time left, kept for ` +
          `${formatDuration(config.stoppedRetention)} (stoppedRetention); "sandman session start ${result.ssh_user}" starts it`,
  );
  if (result.gpu_freed) context.out.log(`  GPU ${result.gpu_freed} freed`);
  else if (result.stopped_gpu && !result.already)
    context.out.log(
      `  GPU ${result.stopped_gpu.gpu_uuid} held for ${formatDuration(config.gpuHoldAfterStop)} (gpuHoldAfterStop)`,
    );
  if (result.note) context.out.log(`  ${result.note}`);
  return result;
};
export default stop;
