import type {StartResult} from '../../src/session/session-service.js';
import {isQueued, ordinal, type QueuedView} from '../../src/session/session-queue.js';
import {gpuDescription} from '../../src/session/banner.js';
import type {Handler} from '../../cli/command-spec.js';
import {formatTime, relativeTime} from '../../cli/output.js';
import {startSpinner} from '../../cli/spinner.js';

/** `session start`: a device of its kind (its own when free), then the container (docs/admin/sessions.md "Stop and start"). */
const start: Handler = async ({args, flags}, context): Promise<StartResult | QueuedView> => {
  const spinner = await startSpinner(context.out.json, 'Starting the session');
  let result: StartResult | QueuedView;
  try {
    const service = await context.services().sessionService((step) => spinner.text(step));
    result = flags.queue ? await service.startOrQueue(args.session!) : await service.start(args.session!);
  } finally {
    spinner.stop();
  }
  if (isQueued(result)) {
    context.out.log(
      `… ${ordinal(result.queue_position)} in line for ${result.waiting_for}: session ${result.session_id} of ${result.ssh_user}`,
    );
    context.out.log(
      `  it starts by itself when that is free; "sandman session stop ${result.session_id}" leaves the line`,
    );
    return result;
  }
  const how =
    result.device === 'moved'
      ? ', on another device (its container was made again from the stopped one)'
      : '';
  context.out.log(
    result.already
      ? `Session ${result.session_id} for ${result.ssh_user} is already running`
      : `Session ${result.session_id} for ${result.ssh_user} started${how}`,
  );
  context.out.log(`  ${result.ssh_command}`);
  context.out.log(
    `  GPU  ${gpuDescription({gpu_uuid: result.gpu_uuid, mig_profile: result.mig_profile})}   expires ${formatTime(result.expires_at)} (${relativeTime(result.expires_at)})`,
  );
  return result;
};
export default start;
