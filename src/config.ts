import {isIP} from 'node:net';
import path from 'node:path';

import {parseByteSize} from './byte-size.js';
import {parseDuration} from './duration.js';
import {errnoCode, invalidInput} from './errors.js';
import {isAccountName} from './user-name.js';

export type MigMode = 'pool' | 'dynamic';
export type Backend = 'docker' | 'swarm';

export interface Config {
  /** Where sessions run: this host's Docker engine, or a Docker Swarm cluster (README "Swarm mode"). */
  backend: Backend;
  stateFile: string;
  workspaceRoot: string;
  /** The uids (and gids) users' homes get, skipping the host's accounts (README "Uids and host accounts"). */
  uidRange: IdRange;
  sshPortStart: number;
  sshPortEnd: number;
  /** Name printed in connection details; undefined means "this host's FQDN", resolved on demand. */
  sshHost?: string;
  bindAddress: string;
  image: string;
  network: string;
  defaultTtl: number;
  maxTtl: number;
  defaultProfile: string;
  migMode: MigMode;
  cpus?: number;
  memory?: number;
  pids: number;
  maxSessions?: number;
  auditLog: string;
  metricsFile?: string;
  nvidiaSmi: string;
  /** How long to wait for the state lock before giving up with exit 7 (milliseconds). */
  lockTimeout: number;
  /** How long `session create` waits for the SSH banner (milliseconds). */
  readyTimeout: number;
  /** `reap` warns a session's terminals this long before it expires (milliseconds). */
  warnBefore: number;
  /** `reap` removes sessions idle this long (milliseconds); off when unset. */
  idleTimeout?: number;
  /** CPU use (percent of one CPU, averaged between reaps) above which a session counts as active. */
  idleCpuThreshold: number;
  /** The firewall rules that keep sessions away from the host (README "Network boundary"). */
  networkPolicy: 'on' | 'off';
  /** Host ports sessions may still reach (DNS, a proxy). */
  hostAllow: number[];
  /** Where sessions may connect beyond the host: anywhere, nowhere, or these networks. */
  egress: 'open' | 'none' | string[];
  /** `sandman api` exits after this long without a request (milliseconds). */
  apiIdleTimeout: number;
  /** Bearer token file that TCP clients of the API must present. */
  apiTokenFile?: string;
  /** Origins that get CORS headers from the API. */
  apiAllowedOrigins: string[];
  /** The API's unix socket (the .socket unit's ListenStream) and its group. */
  apiSocket: string;
  apiSocketGroup: string;
  /** An optional TCP address for the API, host:port. */
  apiListen?: string;
  /** The API's address as browsers reach it (links, Secure cookies); undefined: from the request. */
  apiPublicUrl?: string;
  /** How long a browser login (cookie) lasts (milliseconds). */
  apiLoginTtl: number;
  /** How long a terminal link works before its first use (milliseconds). */
  terminalLinkTtl: number;
  /** Sessions one user may hold at once (README "Users and limits"). */
  userMaxSessions: number;
  /** MIG profiles users may ask for ("whole" for a whole GPU); empty: every profile. */
  allowedProfiles: string[];
  /** Longest TTL a user may ask for (milliseconds); undefined: maxTtl. */
  userMaxTtl?: number;
  /** GPU-hours a user may use over a rolling window, e.g. 40h/7d; undefined: no budget. */
  gpuHourBudget?: GpuHourBudget;
  /** Named groups of limits, from the config file (`groups: {students: {...}}`). */
  groups: Record<string, GroupLimits>;
  /** A queued create older than this is ended by the reaper (milliseconds). */
  queueTimeout: number;
  /** The SSH gateway's port (README "The SSH gateway"). */
  gatewayPort: number;
  /** A gateway connection that has not logged in after this long is dropped (milliseconds). */
  gatewayLoginTimeout: number;
  /** Connections at once from one client address (the socket unit's MaxConnectionsPerSource=). */
  gatewayMaxConnectionsPerSource: number;
  /** Publish each session's own SSH port; off: sessions are reached through the gateway only. */
  directPorts: boolean;
  /** A stopped session keeps its GPU device this long, for a start to get it back (milliseconds). */
  gpuHoldAfterStop: number;
  /** A stopped session is removed this long after it stopped (milliseconds). */
  stoppedRetention: number;
  /** What the reaper does with an idle session: stop it (GPU freed, everything else kept) or remove it. */
  idleAction: 'stop' | 'remove';
  /** A session container's own writable layer at most this many bytes (overlay2 on XFS with pquota). */
  containerDiskLimit?: number;
  /** Each home's disk limit in bytes (a user or group `quota` overrides it); undefined: none. */
  workspaceQuota?: number;
  /** How quotas are enforced: chosen from the filesystem under workspaceRoot, or named. */
  quotaMode: 'auto' | 'xfs' | 'ext4' | 'btrfs' | 'loop' | 'off';
}

/** `20000-59999`: both ends included. */
export interface IdRange {
  first: number;
  last: number;
}

/** `40h/7d`: so many GPU-hours over a rolling window. */
export interface GpuHourBudget {
  hours: number;
  windowMs: number;
  text: string;
}

/** What a group (or a user) may set: each one overrides the global setting of the same meaning. */
export interface GroupLimits {
  userMaxSessions?: number;
  allowedProfiles?: string[];
  userMaxTtl?: number;
  gpuHourBudget?: GpuHourBudget;
  /** Bytes a home may hold (README "Disk quotas"). */
  quota?: number;
}

export type SettingName = keyof Config;
type Parser = (raw: unknown, where: string) => unknown;

interface SettingDefinition {
  parse: Parser;
  default?: unknown;
  /** What the setting does: flag help and README's configuration table are made from it. */
  description: string;
  /** The default in words, where there is no default value (computed, or off). */
  defaultText?: string;
  /**
   * The command-line flag that sets it (without `--`): `stateFile`'s is global, the others belong
   * to `session create` (README "Configuration").
   */
  flag?: string;
  flagAliases?: string[];
}

export const DEFAULT_CONFIG_FILE = '/etc/sandman/config.json';

const SAFE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const HOST_NAME =
  /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
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

const fail = (where: string, message: string): never => {
  throw invalidInput(`${where}: ${message}`);
};

const text: Parser = (raw, where) => {
  if (typeof raw !== 'string' && typeof raw !== 'number') fail(where, 'must be a string');
  const value = String(raw);
  if (value.trim() === '' || /[\0\n\r]/.test(value)) fail(where, 'must be a non-empty single line');
  return value;
};
const filePath: Parser = (raw, where) => path.resolve(text(raw, where) as string);
const integerIn =
  (min: number, max: number): Parser =>
  (raw, where) => {
    const value =
      typeof raw === 'number' ? raw : /^\s*-?\d+\s*$/.test(String(raw)) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      fail(where, `must be a whole number between ${min} and ${max}`);
    }
    return value;
  };
const duration: Parser = (raw, where) => {
  try {
    return parseDuration(raw as string, 'duration');
  } catch (error) {
    return fail(where, (error as Error).message);
  }
};
const port = integerIn(1024, 65535);
/** Below 1000 are the host's system accounts; at 2^31 and above some tools break. */
const idRange: Parser = (raw, where) => {
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(String(raw));
  const [first, last] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || first < 1000 || last > 2 ** 31 - 1 || first > last)
    fail(where, 'must be FIRST-LAST within 1000-2147483647, e.g. 20000-59999');
  return {first, last};
};
const byteSize: Parser = (raw, where) => {
  try {
    return parseByteSize(raw as string, 'size');
  } catch (error) {
    return fail(where, (error as Error).message);
  }
};
/** A duration that may be zero (`0`, `0s`: off). */
const durationOrZero: Parser = (raw, where) =>
  /^\s*0+(\.0+)?[a-z]*\s*$/i.test(String(raw)) ? 0 : duration(raw, where);

/** `40h/7d` (GPU-hours over a rolling window); `none` or empty: no budget. */
export function parseGpuHourBudget(raw: unknown, where: string): GpuHourBudget | undefined {
  const value = String(raw).trim();
  if (value === '' || value === 'none') return undefined;
  const match = /^(\d+(?:\.\d+)?)h?\/(\S+)$/.exec(value);
  if (!match) return fail(where, 'must be GPU-hours over a window, e.g. 40h/7d');
  const hours = Number(match[1]);
  const windowMs = duration(match[2], where) as number;
  return {hours, windowMs, text: value};
}

/** `3g.20gb,1g.5gb` (or a list); `whole` stands for a whole GPU; empty: every profile. */
const profileList: Parser = (raw, where) => {
  const items = (Array.isArray(raw) ? raw.map(String) : String(raw).split(','))
    .map((item) => item.trim())
    .filter(Boolean);
  for (const item of items)
    if (!/^[0-9a-z.+]+$/.test(item))
      fail(where, `${JSON.stringify(item)} is not a MIG profile name (or "whole")`);
  return items;
};

/** The limits a group may set, each checked as its global setting is. */
function groupLimits(raw: unknown, where: string): GroupLimits {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail(where, 'must be an object of limits');
  const limits: GroupLimits = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const at = `${where}: ${key}`;
    if (key === 'userMaxSessions') limits.userMaxSessions = integerIn(1, 1000)(value, at) as number;
    else if (key === 'allowedProfiles') limits.allowedProfiles = profileList(value, at) as string[];
    else if (key === 'userMaxTtl') limits.userMaxTtl = duration(value, at) as number;
    else if (key === 'gpuHourBudget') limits.gpuHourBudget = parseGpuHourBudget(value, at);
    else if (key === 'quota') limits.quota = byteSize(value, at) as number;
    else
      fail(
        where,
        `unknown limit ${JSON.stringify(key)} (known: userMaxSessions, allowedProfiles, userMaxTtl, gpuHourBudget, quota)`,
      );
  }
  return limits;
}

export const SETTINGS: Record<SettingName, SettingDefinition> = {
  backend: {
    description: 'where sessions run: docker (this host) or swarm (a Docker Swarm cluster, from a manager)',
    parse: (raw, where) => {
      if (raw !== 'docker' && raw !== 'swarm') fail(where, 'must be docker or swarm');
      return raw;
    },
    default: 'docker',
  },
  stateFile: {
    description: 'state file; keys and locks live beside it',
    flag: 'state',
    flagAliases: ['db'],
    parse: filePath,
    default: '/var/lib/sandman/state.json',
  },
  workspaceRoot: {
    description: "where users' workspaces live on the host",
    flag: 'workspace-root',
    parse: filePath,
    default: '/srv/workspaces',
  },
  uidRange: {
    description:
      "uids (and gids, the same numbers) users' homes get, FIRST-LAST; those the host's accounts use (getent, LDAP too) are skipped",
    parse: idRange,
    default: '20000-59999',
  },
  sshPortStart: {
    description: 'first host port for session SSH servers',
    flag: 'ssh-port-start',
    parse: port,
    default: 10000,
  },
  sshPortEnd: {
    description: 'last host port for session SSH servers',
    flag: 'ssh-port-end',
    parse: port,
    default: 20000,
  },
  sshHost: {
    description: 'host name printed in connection details',
    defaultText: "this host's FQDN",
    flag: 'ssh-host',
    parse: (raw, where) => {
      const value = text(raw, where) as string;
      if (!HOST_NAME.test(value) && isIP(value) === 0) fail(where, 'must be a host name or IP address');
      return value;
    },
  },
  bindAddress: {
    description: 'host address the SSH ports are published on',
    parse: (raw, where) => {
      const value = text(raw, where) as string;
      if (isIP(value) === 0) fail(where, 'must be an IPv4 or IPv6 address');
      return value;
    },
    default: '0.0.0.0',
  },
  image: {
    description: 'workspace image',
    flag: 'image',
    parse: (raw, where) => {
      const value = text(raw, where) as string;
      if (!isImageReference(value))
        fail(where, 'is not a valid image reference (e.g. sandman/workspace:latest)');
      return value;
    },
    default: 'sandman/workspace:latest',
  },
  network: {
    description: 'Docker bridge network for sessions (inter-container traffic off)',
    parse: (raw, where) => {
      const value = text(raw, where) as string;
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
      const value = text(raw, where) as string;
      if (!/^[0-9a-z.+]+$/.test(value)) fail(where, 'must be a MIG profile name such as 3g.20gb');
      return value;
    },
    default: '3g.20gb',
  },
  migMode: {
    description: '"pool" hands out existing MIG devices; "dynamic" creates and destroys them',
    parse: (raw, where) => {
      if (raw !== 'pool' && raw !== 'dynamic') fail(where, 'must be "pool" or "dynamic"');
      return raw;
    },
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
  auditLog: {
    description: 'audit log, one JSON line per action',
    parse: filePath,
    default: '/var/log/sandman/audit.jsonl',
  },
  metricsFile: {
    description: 'Prometheus text file rewritten after every change (node_exporter textfile collector)',
    defaultText: 'none',
    parse: filePath,
  },
  nvidiaSmi: {
    description: 'the nvidia-smi binary',
    parse: text,
    default: 'nvidia-smi',
  },
  lockTimeout: {
    description: 'how long to wait for the state lock before exit 7',
    parse: duration,
    default: '30s',
  },
  readyTimeout: {
    description: 'how long session create waits for the SSH banner',
    parse: duration,
    default: '60s',
  },
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
    parse: (raw, where) => {
      const value =
        typeof raw === 'number'
          ? raw
          : /^\s*\d+(\.\d+)?\s*%?\s*$/.test(String(raw))
            ? parseFloat(String(raw))
            : NaN;
      if (!Number.isFinite(value) || value < 0 || value > 100_000)
        fail(where, 'must be a percentage such as 5 or 2.5');
      return value;
    },
    default: 5,
  },
  apiIdleTimeout: {
    description: 'sandman api exits after this long without a request',
    parse: duration,
    default: '60s',
  },
  apiTokenFile: {
    description:
      'file (mode 0600) holding the bearer token TCP clients of the API present; setup makes one when apiListen is set',
    defaultText: 'none',
    parse: filePath,
  },
  apiAllowedOrigins: {
    description: 'origins (scheme://host[:port], comma-separated) that get CORS headers from the API',
    defaultText: 'none',
    default: '',
    parse: (raw, where) => {
      const items = (Array.isArray(raw) ? raw.map(String) : String(raw).split(','))
        .map((item) => item.trim())
        .filter(Boolean);
      for (const item of items)
        if (!/^https?:\/\/[a-zA-Z0-9.-]+(:\d{1,5})?$/.test(item))
          fail(where, `${JSON.stringify(item)} is not an origin such as https://portal.example.org`);
      return items;
    },
  },
  apiSocket: {
    description: "the API's unix socket (the .socket unit's ListenStream)",
    parse: filePath,
    default: '/run/sandman/api.sock',
  },
  apiSocketGroup: {
    description: 'group that may use the API socket (mode 0660) and read the state file (0640)',
    default: 'sandman',
    parse: (raw, where) => {
      const value = text(raw, where) as string;
      if (!isAccountName(value)) fail(where, 'must be a group name');
      return value;
    },
  },
  apiListen: {
    description: 'also listen on TCP at host:port (clients then need the bearer token)',
    defaultText: 'none',
    parse: (raw, where) => {
      const value = text(raw, where) as string;
      const match = /^(\[[0-9a-fA-F:]+\]|[0-9.]+|[a-zA-Z0-9.-]+):(\d{1,5})$/.exec(value);
      if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535)
        fail(where, 'must be host:port, e.g. 127.0.0.1:8080');
      return value;
    },
  },
  apiPublicUrl: {
    description:
      'the URL browsers reach the API at (terminal links; https makes the login cookie Secure), e.g. https://gpu1.example.org:8443',
    defaultText: 'from the request',
    parse: (raw, where) => {
      const value = (text(raw, where) as string).replace(/\/+$/, '');
      if (!/^https?:\/\/[a-zA-Z0-9.[\]:-]+(\/[^\s?#]*)?$/.test(value))
        fail(where, 'must be an http(s) URL such as https://gpu1.example.org:8443');
      return value;
    },
  },
  apiLoginTtl: {
    description: "how long a browser's login to the web console lasts",
    parse: duration,
    default: '12h',
  },
  terminalLinkTtl: {
    description: 'how long a terminal link (session terminal) works unless used, by default',
    parse: duration,
    default: '15m',
  },
  userMaxSessions: {
    description: 'sessions one user may hold at once (a group or the user may set their own)',
    parse: integerIn(1, 1000),
    default: 1,
  },
  allowedProfiles: {
    description: 'MIG profiles users may ask for, comma-separated ("whole" for a whole GPU)',
    defaultText: 'every profile',
    default: '',
    parse: profileList,
  },
  userMaxTtl: {
    description: 'longest TTL a user may ask for, creation or extension',
    defaultText: 'maxTtl',
    parse: duration,
  },
  gpuHourBudget: {
    description: 'GPU-hours a user may use over a rolling window, e.g. 40h/7d (as usage counts them)',
    defaultText: 'none',
    parse: (raw, where) => parseGpuHourBudget(raw, where),
  },
  queueTimeout: {
    description: 'a queued create (session create --queue) older than this is ended by the reaper',
    parse: duration,
    default: '24h',
  },
  gatewayPort: {
    description: "port of the SSH gateway: ssh -p PORT USER@host reaches (and starts) that user's session",
    parse: integerIn(1, 65535),
    default: 2200,
  },
  gatewayLoginTimeout: {
    description: 'a gateway connection that has not logged in after this long is dropped',
    parse: duration,
    default: '30s',
  },
  gatewayMaxConnectionsPerSource: {
    description: 'gateway connections at once from one client address',
    parse: integerIn(1, 65535),
    default: 64,
  },
  directPorts: {
    description: "publish each session's own SSH port; false: sessions are reached through the gateway only",
    parse: (raw, where) => {
      const value = String(raw);
      if (!['true', 'false', 'on', 'off', 'yes', 'no'].includes(value)) fail(where, 'must be true or false');
      return ['true', 'on', 'yes'].includes(value);
    },
    default: true,
  },
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
    parse: (raw, where) => {
      if (raw !== 'stop' && raw !== 'remove') fail(where, 'must be "stop" or "remove"');
      return raw;
    },
    default: 'stop',
  },
  containerDiskLimit: {
    description:
      "a session container's own layer (/, /tmp, /opt) at most this size, e.g. 20g (overlay2 on XFS with pquota)",
    defaultText: 'none',
    parse: byteSize,
  },
  workspaceQuota: {
    description: "each home's disk limit, e.g. 50g (a user's or group's quota overrides it)",
    defaultText: 'none',
    parse: byteSize,
  },
  quotaMode: {
    description:
      'how home quotas are enforced: auto (from the filesystem under workspaceRoot), btrfs, loop, xfs, ext4 or off',
    parse: (raw, where) => {
      if (!['auto', 'xfs', 'ext4', 'btrfs', 'loop', 'off'].includes(String(raw)))
        fail(where, 'must be auto, xfs, ext4, btrfs, loop or off');
      return raw;
    },
    default: 'auto',
  },
  groups: {
    description:
      'named groups of limits, e.g. {"students": {"userMaxSessions": 1, "gpuHourBudget": "20h/7d"}}',
    defaultText: 'none',
    default: {},
    parse: (raw, where) => {
      let value = raw;
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw);
        } catch {
          return fail(where, 'must be a JSON object of groups');
        }
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return fail(where, 'must be an object of groups');
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([name, limits]) => {
          if (!isAccountName(name)) fail(where, `${JSON.stringify(name)} is not a group name`);
          return [name, groupLimits(limits, `${where}: group ${name}`)];
        }),
      );
    },
  },
  networkPolicy: {
    description: 'firewall rules that keep sessions away from the host, link-local addresses and each other',
    parse: (raw, where) => {
      if (raw !== 'on' && raw !== 'off') fail(where, 'must be "on" or "off"');
      return raw;
    },
    default: 'on',
  },
  hostAllow: {
    description: 'host ports sessions may still reach, e.g. 53,3128',
    defaultText: 'none',
    default: '',
    parse: (raw, where) => {
      const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
      const ports = items.map((item) => item.trim()).filter((item) => item !== '' && item !== 'none');
      return [...new Set(ports.map((item) => integerIn(1, 65535)(item, where) as number))];
    },
  },
  egress: {
    description: 'where sessions may connect beyond the host: open, none, or a list of CIDRs',
    parse: (raw, where) => {
      if (raw === 'open' || raw === 'none') return raw;
      const items = (Array.isArray(raw) ? raw.map(String) : String(raw).split(','))
        .map((item) => item.trim())
        .filter(Boolean);
      if (items.length === 0) fail(where, 'must be "open", "none" or a comma-separated list of CIDRs');
      return items.map(
        (item) =>
          canonicalCidr(item) ?? fail(where, `${JSON.stringify(item)} is not a CIDR such as 10.0.0.0/8`),
      );
    },
    default: 'open',
  },
};

/** `10.1.2.3/8` → `10.0.0.0/8`, `10.1.2.3` → `10.1.2.3/32`, as iptables shows them; undefined if invalid. */
export function canonicalCidr(text: string): string | undefined {
  const [address = '', prefixText, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  if (family === 6) return `${address.toLowerCase()}/${prefix}`;
  const value = address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);
  const network = prefix === 0 ? 0 : Math.floor(value / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(network / 2 ** shift) % 256);
  return `${octets.join('.')}/${prefix}`;
}

/**
 * The flag that sets a setting on `setup`, which takes one for every setting: the setting's own
 * flag where it declares one (`--ssh-host`), else its name in kebab case (`auditLog` → `--audit-log`).
 */
export function setupFlagName(setting: SettingName): string {
  return SETTINGS[setting].flag ?? setting.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}

/**
 * A setting's value as the config file keeps it (`setup`): checked as loading would check it, then
 * numbers as JSON numbers (`31000`, `4`; a bare-number TTL stays minutes), lists as JSON arrays
 * (`hostAllow`, `egress`, `apiAllowedOrigins`), everything else as given (`60m`, `16g`).
 */
export function storedSetting(name: SettingName, raw: string, where: string): unknown {
  const parsed = SETTINGS[name].parse(raw, `invalid setting ${name}=${JSON.stringify(raw)} (from ${where})`);
  if (Array.isArray(parsed)) return parsed;
  // A JSON object given as text (`--groups '{"students": {...}}'`) is kept as the object.
  if (/^\s*\{/.test(raw)) return JSON.parse(raw) as unknown;
  if (/^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  return raw;
}

/** `stateFile` → `SANDMAN_STATE_FILE` (README "Configuration"). */
export function envName(setting: string): string {
  return 'SANDMAN_' + setting.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export interface ConfigSources {
  /** Values from command-line flags, keyed by setting name; undefined means "not given". */
  flags?: Partial<Record<SettingName, unknown>>;
  /** Flag spelling per setting, for error messages (e.g. `--state`). */
  flagNames?: Partial<Record<SettingName, string>>;
  env?: NodeJS.ProcessEnv;
  /** Reads the config file (src/adapters/fs-config-file.ts; tests pass their own). */
  readFile: (file: string) => string;
  /** A config file named by SANDMAN_CONFIG may be missing too (setup is about to write it). */
  configFileOptional?: boolean;
}

/** The config file in use: SANDMAN_CONFIG, or /etc/sandman/config.json. */
export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SANDMAN_CONFIG ? path.resolve(env.SANDMAN_CONFIG) : DEFAULT_CONFIG_FILE;
}

function readConfigFile(
  env: NodeJS.ProcessEnv,
  readFile: (file: string) => string,
  optional = false,
): {file: string; values: Record<string, unknown>} {
  const named = env.SANDMAN_CONFIG;
  const file = configFilePath(env);
  let textValue: string;
  try {
    textValue = readFile(file);
  } catch (error) {
    // The default file is optional; a file the operator named explicitly must exist.
    if ((!named || optional) && errnoCode(error) === 'ENOENT') return {file, values: {}};
    throw invalidInput(`cannot read config file ${file} (from SANDMAN_CONFIG): ${(error as Error).message}`);
  }
  let values: unknown;
  try {
    values = JSON.parse(textValue);
  } catch (error) {
    throw invalidInput(`config file ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    throw invalidInput(`config file ${file} must hold a JSON object of settings`);
  }
  for (const key of Object.keys(values)) {
    if (!(key in SETTINGS)) {
      throw invalidInput(
        `config file ${file}: unknown setting ${JSON.stringify(key)} (known: ${Object.keys(SETTINGS).join(', ')})`,
      );
    }
  }
  return {file, values: values as Record<string, unknown>};
}

/** Resolves every setting by precedence flags → environment → config file → default, and validates it. */
export function loadConfig(sources: ConfigSources): Config {
  const env = sources.env ?? process.env;
  const flags = sources.flags ?? {};
  const {file, values: fileValues} = readConfigFile(env, sources.readFile, sources.configFileOptional);
  const config: Record<string, unknown> = {};
  const origin: Record<string, string> = {};

  for (const [name, definition] of Object.entries(SETTINGS) as [SettingName, SettingDefinition][]) {
    const variable = envName(name);
    let raw: unknown;
    let where: string;
    if (flags[name] !== undefined) {
      raw = flags[name];
      where = `flag ${sources.flagNames?.[name] ?? name}`;
    } else if (env[variable] !== undefined && env[variable] !== '') {
      raw = env[variable];
      where = `environment ${variable}`;
    } else if (fileValues[name] !== undefined && fileValues[name] !== null) {
      raw = fileValues[name];
      where = `config file ${file}`;
    } else {
      raw = definition.default;
      where = 'default';
    }
    origin[name] = where;
    if (raw === undefined) continue;
    config[name] = definition.parse(raw, `invalid setting ${name}=${JSON.stringify(raw)} (from ${where})`);
  }

  const result = config as unknown as Config;
  if (result.sshPortStart > result.sshPortEnd) {
    throw invalidInput(
      `invalid port range ${result.sshPortStart}-${result.sshPortEnd}: sshPortStart (from ${origin.sshPortStart}) ` +
        `is greater than sshPortEnd (from ${origin.sshPortEnd})`,
    );
  }
  if (result.defaultTtl > result.maxTtl) {
    throw invalidInput(
      `invalid setting defaultTtl (from ${origin.defaultTtl}): longer than maxTtl (from ${origin.maxTtl})`,
    );
  }
  return result;
}

/** A setting's default as people read it: `60m`, `/srv/workspaces`, `this host's FQDN`, `none`. */
export function defaultText(name: SettingName): string {
  const definition = SETTINGS[name];
  return definition.defaultText ?? String(definition.default ?? 'none');
}

/** Flag help for a setting's flag: its description, default and environment variable. */
export function settingHelp(name: SettingName): string {
  return `${SETTINGS[name].description} (default ${defaultText(name)}; env ${envName(name)})`;
}
