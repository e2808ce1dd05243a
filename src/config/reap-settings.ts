// What the reaper does with idle and stopped sessions (docs/admin/reaper.md "The reaper").
import {duration, durationOrZero, oneOf, percentUpTo, type Settings} from './setting.js';

export const IDLE_SETTINGS = {
  warnBefore: {
    description: "reap warns a session's terminals this long before expiry",
    parse: duration,
    default: '10m',
  },
  idleTimeout: {
    description: 'reap removes sessions idle this long: no SSH connection, no CPU use, no GPU process',
    defaultText: 'off',
    parse: duration,
  },
  idleCpuThreshold: {
    description: 'CPU use (percent of one CPU, averaged since the previous reap) that keeps a session active',
    parse: percentUpTo(100_000, 'must be a percentage such as 5 or 2.5'),
    default: 5,
  },
} satisfies Settings;

export const STOPPED_SETTINGS = {
  gpuHoldAfterStop: {
    description: 'a stopped session keeps its GPU device this long, so a start gets the same one back',
    parse: durationOrZero,
    default: '0s',
  },
  stoppedRetention: {
    description: 'a stopped session (its container and writable layer) is removed this long after it stopped',
    parse: duration,
    default: '7d',
  },
  idleAction: {
    description: 'what reap does with an idle session: stop (GPU freed, everything else kept) or remove',
    parse: oneOf(['stop', 'remove'], 'must be "stop" or "remove"'),
    default: 'stop',
  },
} satisfies Settings;
