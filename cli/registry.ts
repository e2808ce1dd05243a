/**
 * Every sandman command, once: the index of the command specs, each beside its handler
 * (commands/session/create.spec.ts next to create.ts: words, help, arguments, flags, and where the
 * handler lives). Both doors read this table (docs/development/contributing.md "How the CLI is built"); a new command is a
 * spec and a handler in commands/ and one line here, and a flag that sets a configuration value is
 * one entry in src/config/config.ts's SETTINGS. The specs are data: loading the table loads no handler.
 */
import type {CommandSpec} from './command-spec.js';
import sessionCreate from '../commands/session/create.spec.js';
import sessionLs from '../commands/session/ls.spec.js';
import sessionShow from '../commands/session/show.spec.js';
import sessionRm from '../commands/session/rm.spec.js';
import sessionExtend from '../commands/session/extend.spec.js';
import sessionTerminal from '../commands/session/terminal.spec.js';
import sessionStop from '../commands/session/stop.spec.js';
import sessionStart from '../commands/session/start.spec.js';
import sessionLogs from '../commands/session/logs.spec.js';
import ssh from '../commands/ssh.spec.js';
import knownHosts from '../commands/known-hosts.spec.js';
import sshConfig from '../commands/ssh-config.spec.js';
import userAdd from '../commands/user/add.spec.js';
import userSet from '../commands/user/set.spec.js';
import userShow from '../commands/user/show.spec.js';
import userLs from '../commands/user/ls.spec.js';
import userRm from '../commands/user/rm.spec.js';
import userKeyAdd from '../commands/user/key/add.spec.js';
import userKeyRm from '../commands/user/key/rm.spec.js';
import userKeyLs from '../commands/user/key/ls.spec.js';
import userLoginLink from '../commands/user/login-link.spec.js';
import networkStatus from '../commands/network/status.spec.js';
import gpuLs from '../commands/gpu/ls.spec.js';
import gpuProfiles from '../commands/gpu/profiles.spec.js';
import gpuAvailable from '../commands/gpu/available.spec.js';
import reap from '../commands/reap.spec.js';
import doctor from '../commands/doctor.spec.js';
import api from '../commands/api.spec.js';
import gateway from '../commands/gateway.spec.js';
import selfServe from '../commands/self-serve.spec.js';
import usage from '../commands/usage.spec.js';
import setup from '../commands/setup.spec.js';
import nodeSetup from '../commands/node/setup.spec.js';
import imageBuild from '../commands/image/build.spec.js';
import systemdPrint from '../commands/systemd/print.spec.js';
import systemdInstall from '../commands/systemd/install.spec.js';
import notifyTest from '../commands/notify/test.spec.js';
import jobSubmit from '../commands/job/submit.spec.js';
import jobLs from '../commands/job/ls.spec.js';
import jobShow from '../commands/job/show.spec.js';
import jobLogs from '../commands/job/logs.spec.js';
import jobCancel from '../commands/job/cancel.spec.js';

export {GLOBAL_FLAGS} from './spec-parts.js';

/** In this order: the fast door takes the first entry whose words match. */
export const COMMAND_TABLE: CommandSpec[] = [
  sessionCreate,
  sessionLs,
  sessionShow,
  sessionRm,
  sessionExtend,
  sessionTerminal,
  sessionStop,
  sessionStart,
  sessionLogs,
  ssh,
  knownHosts,
  sshConfig,
  userAdd,
  userSet,
  userShow,
  userLs,
  userRm,
  userKeyAdd,
  userKeyRm,
  userKeyLs,
  userLoginLink,
  networkStatus,
  gpuLs,
  gpuProfiles,
  gpuAvailable,
  reap,
  doctor,
  api,
  gateway,
  selfServe,
  usage,
  setup,
  nodeSetup,
  imageBuild,
  systemdPrint,
  systemdInstall,
  notifyTest,
  jobSubmit,
  jobLs,
  jobShow,
  jobLogs,
  jobCancel,
];
