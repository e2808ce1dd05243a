// GPU utilisation as an idle signal (docs/admin/notifications-and-idleness.md "GPU idleness"): global settings; a group or a user
// may set idleGpuThreshold and idleGpuWindow of their own (src/users/user-limits.ts).
import {durationOrZero, fail, percentUpTo, type Parser, type Settings} from './setting.js';

/** A GPU's utilisation: 0 to 100. */
export const percent = percentUpTo(100, 'must be a percentage from 0 to 100, such as 5');

/** `http://localhost:9400/metrics`: an http(s) URL; `none` or empty: no exporter. */
const metricsUrl: Parser<string | undefined> = (raw, where) => {
  const value = String(raw).trim();
  if (value === '' || value === 'none') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail(where, 'must be an http(s) URL such as http://localhost:9400/metrics');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    fail(where, 'must be an http(s) URL such as http://localhost:9400/metrics');
  return url.toString();
};

export const GPU_IDLE_SETTINGS = {
  idleGpuThreshold: {
    description:
      "GPU utilisation (percent) under which a session's device counts as idle (a group or user may set its own)",
    parse: percent,
    default: 5,
  },
  idleGpuWindow: {
    description:
      'reap stops a session whose every GPU sample was under idleGpuThreshold this long, processes or not; 0: off',
    parse: durationOrZero,
    default: '2h',
  },
  dcgmExporterUrl: {
    description:
      "NVIDIA dcgm-exporter's metrics page, for the utilisation of MIG devices (nvidia-smi has none for them)",
    defaultText: 'none',
    parse: metricsUrl,
  },
} satisfies Settings;
