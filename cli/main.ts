/**
 * The whole CLI as one module, for the bundle (scripts/bundle.mjs). oclif finds the commands here
 * (the "explicit" discovery strategy) instead of importing one file per command from dist/, which
 * together with bundling @oclif/core cuts start-up (see BENCHMARKS.md).
 */
import {execute} from '@oclif/core';

import Doctor from '../commands/doctor.js';
import GpuAvailable from '../commands/gpu/available.js';
import GpuLs from '../commands/gpu/ls.js';
import GpuProfiles from '../commands/gpu/profiles.js';
import ImageBuild from '../commands/image/build.js';
import Reap from '../commands/reap.js';
import SessionCreate from '../commands/session/create.js';
import SessionExtend from '../commands/session/extend.js';
import SessionLogs from '../commands/session/logs.js';
import SessionLs from '../commands/session/ls.js';
import SessionRm from '../commands/session/rm.js';
import SessionShow from '../commands/session/show.js';
import Ssh from '../commands/ssh.js';
import SystemdInstall from '../commands/systemd/install.js';
import SystemdPrint from '../commands/systemd/print.js';

export const COMMANDS = {
  doctor: Doctor,
  'gpu:available': GpuAvailable,
  'gpu:ls': GpuLs,
  'gpu:profiles': GpuProfiles,
  'image:build': ImageBuild,
  reap: Reap,
  'session:create': SessionCreate,
  'session:extend': SessionExtend,
  'session:logs': SessionLogs,
  'session:ls': SessionLs,
  'session:rm': SessionRm,
  'session:show': SessionShow,
  ssh: Ssh,
  'systemd:install': SystemdInstall,
  'systemd:print': SystemdPrint,
};

export async function run(dir: string): Promise<void> {
  await execute({dir});
}
