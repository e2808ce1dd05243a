import type {CommandSpec} from '../../cli/command-spec.js';
import {SESSION_ARG} from '../../cli/spec-parts.js';

/** `sandman session stop`: help, arguments and flags (data only); its handler is stop.ts. */
const spec: CommandSpec = {
  id: 'session:stop',
  summary: 'Stop a session: its GPU is freed, its container, files, port and keys are kept',
  description:
    'The container stops with its writable layer; the GPU device goes back after gpuHoldAfterStop; the TTL ' +
    'clock pauses. A stopped session is removed stoppedRetention after it stopped (docs/admin/sessions.md "Stop and start").',
  examples: ['<%= config.bin %> session stop alice', '<%= config.bin %> session stop 7f3a --json'],
  args: [SESSION_ARG],
  fast: true,
  load: () => import('./stop.js'),
};

export default spec;
