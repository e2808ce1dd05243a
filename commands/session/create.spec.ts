import type {CommandSpec, FlagSpec} from '../../cli/command-spec.js';
import {sshKeyFlag} from '../../cli/key-file.js';
import {SETTINGS, type SettingName} from '../../src/config/config.js';
import {settingFlag} from '../../cli/spec-parts.js';

/** `session create` takes a flag for every setting that declares one (but the global state file). */
const CREATION_SETTING_FLAGS: Record<string, FlagSpec> = Object.fromEntries(
  (Object.keys(SETTINGS) as SettingName[])
    .filter((setting) => SETTINGS[setting].flag && setting !== 'stateFile')
    .map(settingFlag),
);

/** `sandman session create`: help, arguments and flags (data only); its handler is create.ts. */
const spec: CommandSpec = {
  id: 'session:create',
  summary: 'Start a workspace container for USER and print how to connect',
  description:
    'Allocates an SSH port and a GPU slice, creates the workspace, starts the container and waits until SSH answers.',
  examples: [
    '<%= config.bin %> session create alice --profile 3g.20gb --ttl 2h',
    '<%= config.bin %> session create bob --no-gpu --ttl 90m --json',
    'cat ~/.ssh/id_ed25519.pub | <%= config.bin %> session create carol --ssh-key - --no-gpu',
  ],
  args: [
    {name: 'user', description: 'login name of the session user (asked for on a terminal when left out)'},
  ],
  flags: {
    ttl: {
      kind: 'string',
      description: 'lifetime: 90m, 2h, 1d, or minutes as a number (default defaultTtl)',
    },
    profile: {kind: 'string', description: 'a free MIG device of this profile, e.g. 3g.20gb'},
    'mig-instance': {kind: 'string', description: 'this exact MIG device (UUID)'},
    gpu: {kind: 'string', description: 'a whole GPU not in MIG mode (UUID, index, or any)'},
    'no-gpu': {kind: 'boolean', description: 'no GPU at all'},
    'ssh-key': sshKeyFlag('install this public key instead of making a key pair'),
    password: {
      kind: 'boolean',
      description: 'also allow password login; a random password is printed once',
    },
    env: {
      kind: 'string',
      description: 'environment variable for the session, KEY=VALUE (repeatable)',
      multiple: true,
    },
    'no-wait': {
      kind: 'boolean',
      description: 'return as soon as the container started (or, with --queue, was queued), without waiting',
    },
    queue: {
      kind: 'boolean',
      description: 'when nothing of the asked kind is free, wait in line instead of exit 5',
    },
    node: {
      kind: 'string',
      description: "swarm mode: the node for the user's first session; their home stays there",
    },
    ...CREATION_SETTING_FLAGS,
  },
  // The GPU choices (docs/admin/gpus.md).
  exclusive: ['profile', 'mig-instance', 'gpu', 'no-gpu'],
  fast: true,
  load: () => import('./create.js'),
};

export default spec;
