// What a session gets: image, network, lifetime, GPU and limits.
import {parseByteSize} from '../core/byte-size.js';
import {duration, fail, integerIn, oneOf, text, type Settings} from './setting.js';

const SAFE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
// Docker's reference grammar: [registry[:port]/]path[:tag][@digest], where the first component is a
// registry only if it has a dot or a port or is "localhost", and path components are lower-case.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9.-]+:\d+)(?::\d+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;

export function isImageReference(reference: string): boolean {
  if (/^sha256:[a-f0-9]{64}$/.test(reference)) return true;
  let rest = reference;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (!/^sha256:[a-f0-9]{64}$/.test(rest.slice(at + 1))) return false;
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    if (!TAG.test(rest.slice(colon + 1))) return false;
    rest = rest.slice(0, colon);
  }
  const components = rest.split('/');
  if (components.length > 1 && REGISTRY.test(components[0] ?? '')) components.shift();
  return components.length > 0 && components.every((component) => PATH_COMPONENT.test(component));
}

export const SESSION_SETTINGS = {
  image: {
    description: 'workspace image',
    flag: 'image',
    parse: (raw, where) => {
      const value = text(raw, where);
      if (!isImageReference(value))
        fail(where, 'is not a valid image reference (e.g. sandman/workspace:latest)');
      return value;
    },
    default: 'sandman/workspace:latest',
  },
  network: {
    description: 'Docker bridge network for sessions (inter-container traffic off)',
    parse: (raw, where) => {
      const value = text(raw, where);
      if (!SAFE_NAME.test(value) || value.length > 64)
        fail(where, 'must be a Docker network name ([a-zA-Z0-9_.-])');
      return value;
    },
    default: 'sandman',
  },
  defaultTtl: {
    description: 'lifetime of a session created without --ttl',
    parse: duration,
    default: '60m',
  },
  maxTtl: {
    description: 'longest a session may last from creation, extensions included',
    parse: duration,
    default: '7d',
  },
  defaultProfile: {
    description: 'MIG profile used when no GPU flag is given',
    parse: (raw, where) => {
      const value = text(raw, where);
      if (!/^[0-9a-z.+]+$/.test(value)) fail(where, 'must be a MIG profile name such as 3g.20gb');
      return value;
    },
    default: '3g.20gb',
  },
  migMode: {
    description: '"pool" hands out existing MIG devices; "dynamic" creates and destroys them',
    parse: oneOf(['pool', 'dynamic'], 'must be "pool" or "dynamic"'),
    default: 'pool',
  },
  cpus: {
    description: 'CPU limit per session, e.g. 4 or 0.5',
    defaultText: 'none',
    flag: 'cpus',
    parse: (raw, where) => {
      const value =
        typeof raw === 'number' ? raw : /^\s*\d+(\.\d+)?\s*$/.test(String(raw)) ? Number(raw) : NaN;
      if (!Number.isFinite(value) || value <= 0 || value > 4096)
        fail(where, 'must be a positive number of CPUs');
      return value;
    },
  },
  memory: {
    description: 'memory limit per session, e.g. 16g',
    defaultText: 'none',
    flag: 'memory',
    parse: (raw, where) => {
      try {
        return parseByteSize(raw as string, 'memory size');
      } catch (error) {
        return fail(where, (error as Error).message);
      }
    },
  },
  pids: {
    description: 'process limit per session',
    flag: 'pids',
    parse: integerIn(16, 4_194_304),
    default: 1024,
  },
  maxSessions: {
    description: 'most sessions at once',
    defaultText: 'none',
    parse: integerIn(1, 100_000),
  },
} satisfies Settings;

export const READY_SETTINGS = {
  readyTimeout: {
    description: 'how long session create waits for the SSH banner',
    parse: duration,
    default: '60s',
  },
} satisfies Settings;
