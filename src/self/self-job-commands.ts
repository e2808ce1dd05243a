/**
 * The in-session `sandman job …` words (docs/admin/sessions.md "The in-session command"):
 * her own batch jobs, always as the session's user (no USER argument). Pure: the host parses what
 * the client sent.
 */
import type {GpuChoice} from '../gpu/gpu-allocator.js';
import {invalidInput} from '../core/errors.js';

export type SelfJobCommand =
  | {
      name: 'job';
      action: 'submit';
      gpu: GpuChoice;
      command: string[];
      image?: string;
      ttl?: string;
      env: string[];
      jobName?: string;
      workdir?: string;
      wait: boolean;
    }
  | {name: 'job'; action: 'ls'; all: boolean}
  | {name: 'job'; action: 'show' | 'logs' | 'cancel'; job: string};

export const SELF_JOB_HELP = `  sandman job submit [--gpu any|ID | --profile P | --mig-instance UUID | --no-gpu]
        [--image I] [--ttl D] [--env K=V]... [--name N] [--workdir DIR] [--wait] -- CMD...
                                     run CMD as you in a container of its own, through the queue
  sandman job ls [--all]             your jobs (--all: also those that ended recently)
  sandman job show|logs|cancel JOB   one of your jobs (its ID, an ID prefix or its --name)
`;

const VALUE_FLAGS = [
  '--gpu',
  '--profile',
  '--mig-instance',
  '--image',
  '--ttl',
  '--env',
  '--name',
  '--workdir',
];
const USAGE =
  'usage: sandman job submit [flags] -- CMD..., sandman job ls [--all], sandman job show|logs|cancel JOB';

/** `job …`'s words after `job` (`--json` already taken out of the part before `--`). */
export function parseSelfJobArgs(words: readonly string[]): SelfJobCommand {
  const [action, ...rest] = words;
  switch (action) {
    case 'submit':
      return parseSubmit(rest);
    case 'ls':
      if (rest.some((word) => word !== '--all')) throw invalidInput(`usage: sandman job ls [--all]`);
      return {name: 'job', action: 'ls', all: rest.includes('--all')};
    case 'show':
    case 'logs':
    case 'cancel': {
      // `logs -f`: the answer is what was written so far (the channel answers once).
      const reference = rest.filter((word) => action !== 'logs' || (word !== '-f' && word !== '--follow'));
      if (reference.length !== 1 || reference[0]!.startsWith('-'))
        throw invalidInput(`usage: sandman job ${action} JOB (its ID, an ID prefix or its --name)`);
      return {name: 'job', action, job: reference[0]!};
    }
    default:
      throw invalidInput(USAGE);
  }
}

function parseSubmit(words: readonly string[]): SelfJobCommand {
  const cut = words.indexOf('--');
  if (cut < 0 || cut === words.length - 1)
    throw invalidInput('usage: sandman job submit [flags] -- CMD [ARGS...] (the command comes after --)');
  const command = words.slice(cut + 1);
  const values: Record<string, string> = {};
  const env: string[] = [];
  const gpus: GpuChoice[] = [];
  let wait = false;
  const flags = words.slice(0, cut);
  for (let index = 0; index < flags.length; index++) {
    const word = flags[index]!;
    if (word === '--wait') {
      wait = true;
      continue;
    }
    if (word === '--no-gpu') {
      gpus.push({kind: 'none'});
      continue;
    }
    const [flag, inline] = word.includes('=')
      ? [word.slice(0, word.indexOf('=')), word.slice(word.indexOf('=') + 1)]
      : [word, undefined];
    if (!VALUE_FLAGS.includes(flag))
      throw invalidInput(`unknown flag ${JSON.stringify(word)} for sandman job submit`);
    const value = inline ?? flags[++index];
    if (value === undefined || value === '') throw invalidInput(`${flag} needs a value`);
    if (flag === '--env') env.push(value);
    else if (flag === '--gpu') gpus.push({kind: 'gpu', ref: value});
    else if (flag === '--profile') gpus.push({kind: 'profile', profile: value});
    else if (flag === '--mig-instance') gpus.push({kind: 'mig-instance', uuid: value});
    else if (values[flag] !== undefined) throw invalidInput(`${flag} given twice`);
    else values[flag] = value;
  }
  if (gpus.length > 1)
    throw invalidInput('--gpu, --profile, --mig-instance and --no-gpu exclude each other: give one');
  return {
    name: 'job',
    action: 'submit',
    gpu: gpus[0] ?? {kind: 'default'},
    command,
    env,
    wait,
    ...(values['--image'] !== undefined ? {image: values['--image']} : {}),
    ...(values['--ttl'] !== undefined ? {ttl: values['--ttl']} : {}),
    ...(values['--name'] !== undefined ? {jobName: values['--name']} : {}),
    ...(values['--workdir'] !== undefined ? {workdir: values['--workdir']} : {}),
  };
}
