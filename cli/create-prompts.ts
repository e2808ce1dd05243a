import type {Config} from '../src/config.js';
import {parseDuration} from '../src/duration.js';
import type {GpuChoice} from '../src/gpu/gpu-allocator.js';
import {validateUserName} from '../src/user-name.js';
import {gpuService} from './services.js';

/** What `session create` without USER asks a person at a terminal (inquirer prompts). */
export async function askForSession(
  config: Config,
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
    const choices = await gpuChoices(config);
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
async function gpuChoices(config: Config): Promise<Array<{name: string; value: GpuChoice}>> {
  const none = {name: 'no GPU', value: {kind: 'none'} as GpuChoice};
  let available;
  try {
    available = await (await gpuService(config)).available();
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
