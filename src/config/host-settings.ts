// Where sandman runs and keeps its files (docs/reference/settings.md).
import {duration, fail, filePath, oneOf, text, type Parser, type Settings} from './setting.js';

/** `20000-59999`: both ends included. */
export interface IdRange {
  first: number;
  last: number;
}

/** Below 1000 are the host's system accounts; at 2^31 and above some tools break. */
const idRange: Parser<IdRange> = (raw, where) => {
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(String(raw));
  const [first, last] = [Number(match?.[1]), Number(match?.[2])];
  if (!match || first < 1000 || last > 2 ** 31 - 1 || first > last)
    fail(where, 'must be FIRST-LAST within 1000-2147483647, e.g. 20000-59999');
  return {first, last};
};

export const HOST_SETTINGS = {
  backend: {
    description: 'where sessions run: docker (this host) or swarm (a Docker Swarm cluster, from a manager)',
    parse: oneOf(['docker', 'swarm'], 'must be docker or swarm'),
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
} satisfies Settings;

export const HOST_FILE_SETTINGS = {
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
} satisfies Settings;
