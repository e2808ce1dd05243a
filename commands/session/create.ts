import {Args, Flags} from '@oclif/core';

import {invalidInput} from '../../src/errors.js';
import type {CreatedSession} from '../../src/session/session-service.js';
import {validateUserName} from '../../src/user-name.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {askForSession} from '../../cli/create-prompts.js';
import {createSession, gpuChoiceOf} from '../../cli/session-create.js';
import {creationSettingFlags} from '../../cli/session-flags.js';
import {creationSettingNames} from '../../cli/settings.js';
import {interactive} from '../../cli/terminal.js';

const GPU_FLAGS = ['profile', 'mig-instance', 'gpu', 'no-gpu'];
/** The GPU flags are mutually exclusive (SPEC.md section 2). */
const othersThan = (flag: string) => GPU_FLAGS.filter((other) => other !== flag);

export default class SessionCreate extends SandmanCommand {
  static override summary = 'Start a workspace container for USER and print how to connect';
  static override description =
    'Allocates an SSH port and a GPU slice, creates the workspace, starts the container and waits until SSH answers.';
  static override examples = [
    '<%= config.bin %> session create alice --profile 3g.20gb --ttl 2h',
    '<%= config.bin %> session create bob --no-gpu --ttl 90m --json',
    'cat ~/.ssh/id_ed25519.pub | <%= config.bin %> session create carol --ssh-key - --no-gpu',
  ];

  static override args = {
    user: Args.string({
      description: 'login name of the session user (asked for on a terminal when left out)',
    }),
  };

  static override flags = {
    ttl: Flags.string({description: 'lifetime: 90m, 2h, 1d, or minutes as a number (default 60m)'}),
    profile: Flags.string({
      description: 'a free MIG device of this profile, e.g. 3g.20gb',
      exclusive: othersThan('profile'),
    }),
    'mig-instance': Flags.string({
      description: 'this exact MIG device (UUID)',
      exclusive: othersThan('mig-instance'),
    }),
    gpu: Flags.string({
      description: 'a whole GPU not in MIG mode (UUID or index)',
      exclusive: othersThan('gpu'),
    }),
    'no-gpu': Flags.boolean({description: 'no GPU at all', exclusive: othersThan('no-gpu')}),
    'ssh-key': Flags.string({
      description: "install this public key instead of making a key pair ('-' reads stdin)",
    }),
    password: Flags.boolean({description: 'also allow password login; a random password is printed once'}),
    env: Flags.string({
      description: 'environment variable for the session, KEY=VALUE (repeatable)',
      multiple: true,
    }),
    'no-wait': Flags.boolean({
      description: 'return as soon as the container started, without waiting for SSH',
    }),
    ...creationSettingFlags,
  };

  async run(): Promise<CreatedSession> {
    const {args, flags} = await this.parse(SessionCreate);
    const config = this.loadSettings(flags, creationSettingNames);
    let ttl = flags.ttl;
    let gpu = gpuChoiceOf(flags);
    let user: string;
    if (args.user !== undefined) {
      user = validateUserName(args.user);
    } else if (!this.jsonEnabled() && interactive()) {
      ({user, gpu, ttl} = await askForSession(config, {gpu, ttl}));
    } else {
      throw invalidInput(
        'missing USER: give the user name (e.g. sandman session create alice); it is asked for only on a terminal',
      );
    }
    return createSession(config, {user, gpu, ttl, flags}, this.output);
  }
}
