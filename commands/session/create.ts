import type {Config} from '../../src/config/config.js';
import {parseDuration} from '../../src/core/duration.js';
import {capacity, invalidInput} from '../../src/core/errors.js';
import type {GpuChoice} from '../../src/gpu/gpu-allocator.js';
import {gpuDescription} from '../../src/session/banner.js';
import {isQueued, ordinal, type QueuedView} from '../../src/session/session-queue.js';
import type {CreatedSession, SessionService} from '../../src/session/session-service.js';
import {validateUserName} from '../../src/users/user-name.js';
import type {CommandContext, Handler} from '../../cli/command-spec.js';
import {readKeyFile} from '../../cli/key-file.js';
import {formatTime, loadChalk, relativeTime, type CommandOutput} from '../../cli/output.js';
import type {Services} from '../../cli/services.js';
import {startSpinner, type Spinner} from '../../cli/spinner.js';
import {interactive, spinnerWanted} from '../../cli/terminal.js';

interface CreateFlags {
  ttl?: string;
  profile?: string;
  'mig-instance'?: string;
  gpu?: string;
  'no-gpu'?: boolean;
  'ssh-key'?: string;
  password?: boolean;
  env?: string[];
  'no-wait'?: boolean;
  node?: string;
  queue?: boolean;
}

/** `session create USER`: asks for what is missing on a terminal, then creates and prints how to connect. */
const create: Handler = async ({args, flags: given}, context): Promise<CreatedSession | QueuedView> => {
  const flags = given as CreateFlags;
  const config = context.settings();
  let ttl = flags.ttl;
  let gpu = gpuChoiceOf(flags);
  let user: string;
  if (args.user !== undefined) {
    user = validateUserName(args.user);
  } else if (!context.out.json && interactive()) {
    ({user, gpu, ttl} = await askForSession(config, context.services(), {gpu, ttl}));
  } else {
    throw invalidInput(
      'missing USER: give the user name (e.g. sandman session create alice); it is asked for only on a terminal',
    );
  }
  return createSession(context, {user, gpu, ttl, flags});
};
export default create;

/** The GPU the flags ask for (they are mutually exclusive; both doors enforce that). */
function gpuChoiceOf(flags: CreateFlags): GpuChoice {
  if (flags['no-gpu']) return {kind: 'none'};
  if (flags.profile !== undefined) return {kind: 'profile', profile: flags.profile};
  if (flags['mig-instance'] !== undefined) return {kind: 'mig-instance', uuid: flags['mig-instance']};
  if (flags.gpu !== undefined) return {kind: 'gpu', ref: flags.gpu};
  return {kind: 'default'};
}

async function createSession(
  context: CommandContext,
  request: {user: string; gpu: GpuChoice; ttl?: string; flags: CreateFlags},
): Promise<CreatedSession | QueuedView> {
  const {flags} = request;
  const {out} = context;
  const authorizedKeys =
    flags['ssh-key'] === undefined ? undefined : await readKeyFile(flags['ssh-key'], '--ssh-key');
  const spinner = await startSpinner(out.json, `Creating a session for ${request.user}`);
  try {
    const service = await context.services().sessionService(spinner.text);
    const result = await service.createOrQueue({
      user: request.user,
      ttl: request.ttl,
      gpu: request.gpu,
      authorizedKeys,
      password: flags.password ?? false,
      env: flags.env ?? [],
      wait: !flags['no-wait'],
      node: flags.node,
      queue: flags.queue === true,
    });
    if (isQueued(result)) {
      if (flags['no-wait']) {
        spinner.stop();
        out.log(
          `… ${ordinal(result.queue_position)} in line for ${result.waiting_for}: request ${result.session_id} for ${result.ssh_user}`,
        );
        out.log(
          `  it starts by itself when that is free; "sandman session rm ${result.session_id}" cancels it`,
        );
        return result;
      }
      const session = await waitInLine(service, result, spinner, out);
      spinner.stop();
      await printCreated(session, true, out);
      return session;
    }
    spinner.stop();
    await printCreated(result, !flags['no-wait'], out);
    return result;
  } catch (error) {
    spinner.stop();
    throw error;
  }
}

/**
 * `--queue` attached: the place in line on the spinner (or one line each time it changes, off a
 * terminal) until the session runs; Ctrl-C or a kill leaves the line (nothing else was made).
 */
async function waitInLine(
  service: SessionService,
  queued: QueuedView,
  spinner: Spinner,
  out: CommandOutput,
): Promise<CreatedSession> {
  let shown = '';
  const place = (view: QueuedView) => {
    const text = `${ordinal(view.queue_position)} in line for ${view.waiting_for} (request ${view.session_id})`;
    if (text === shown) return;
    shown = text;
    spinner.text(text);
    if (!out.json && !spinnerWanted(false)) process.stderr.write(`${text}\n`);
  };
  place(queued);
  const leave = (signal: NodeJS.Signals) => {
    void service.queue.cancel(queued.session_id).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', leave);
  process.once('SIGTERM', leave);
  try {
    if ((await service.queue.waitFor(queued.session_id, place)) === 'ended')
      throw capacity(
        `queued request ${queued.session_id} for ${queued.ssh_user} ended without a session: cancelled ` +
          '("sandman session rm") or older than queueTimeout',
      );
  } finally {
    process.off('SIGINT', leave);
    process.off('SIGTERM', leave);
  }
  return service.startedFromQueue(queued.session_id);
}

async function printCreated(session: CreatedSession, waited: boolean, out: CommandOutput): Promise<void> {
  if (out.json) return;
  const chalk = await loadChalk(out.colour);
  const tick = chalk ? chalk.green('✔') : '✔';
  out.log(
    `${tick} Session ${session.session_id} for ${session.ssh_user} is ${waited ? 'ready' : 'starting'}`,
  );
  out.log(`  ${session.ssh_command}`);
  const gpu = gpuDescription(session) + (session.gpu_note ? ` (${session.gpu_note})` : '');
  out.log(`  GPU  ${gpu}   expires ${formatTime(session.expires_at)} (${relativeTime(session.expires_at)})`);
  if (session.ssh_password) out.log(`  password  ${session.ssh_password}   (shown once, not stored)`);
  out.log('  trust this host once: sandman known-hosts >> ~/.ssh/known_hosts');
}

/** What `session create` without USER asks a person at a terminal (inquirer prompts). */
async function askForSession(
  config: Config,
  services: Services,
  given: {gpu: GpuChoice; ttl?: string},
): Promise<{user: string; gpu: GpuChoice; ttl: string}> {
  const {input, select} = await import('@inquirer/prompts');
  const user = await input({
    message: 'User name',
    validate: (value) => {
      try {
        validateUserName(value);
        return true;
      } catch (error) {
        return (error as Error).message;
      }
    },
  });
  let gpu = given.gpu;
  if (gpu.kind === 'default') {
    const choices = await gpuChoices(services);
    if (choices.length > 1) gpu = await select({message: 'GPU', choices});
  }
  const ttl =
    given.ttl ??
    (await input({
      message: 'Time to live',
      default: `${config.defaultTtl / 60_000}m`,
      validate: (value) => {
        try {
          return (
            parseDuration(value, 'TTL') <= config.maxTtl ||
            `at most maxTtl (${config.maxTtl / 60_000} minutes)`
          );
        } catch (error) {
          return (error as Error).message;
        }
      },
    }));
  return {user: validateUserName(user), gpu, ttl};
}

/** The free profiles and whole GPUs, as menu entries; just "no GPU" on a host without nvidia-smi. */
async function gpuChoices(services: Services): Promise<Array<{name: string; value: GpuChoice}>> {
  const none = {name: 'no GPU', value: {kind: 'none'} as GpuChoice};
  let available;
  try {
    available = await (await services.gpuService()).available();
  } catch {
    return [none];
  }
  const choices: Array<{name: string; value: GpuChoice}> = [];
  const profiles = new Map<string, number>();
  for (const device of available.devices) {
    if (device.kind === 'mig' && device.profile)
      profiles.set(device.profile, (profiles.get(device.profile) ?? 0) + 1);
    else
      choices.push({
        name: `whole GPU ${device.gpu_index} (${device.uuid})`,
        value: {kind: 'gpu', ref: device.uuid},
      });
  }
  for (const item of available.creatable) if (!profiles.has(item.profile)) profiles.set(item.profile, 0);
  const migChoices = [...profiles].map(([profile, free]) => ({
    name: `MIG ${profile}${free > 0 ? ` (${free} free)` : ' (created on demand)'}`,
    value: {kind: 'profile', profile} as GpuChoice,
  }));
  return [...migChoices, ...choices, none];
}
