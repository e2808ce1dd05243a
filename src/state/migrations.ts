import {STATE_VERSION, type StateData} from './state-data.js';

/**
 * The state file's versions (docs/admin/upgrades-and-backups.md "Upgrading"). Each step takes a file of version N to N+1, in
 * memory; the store writes the result (keeping `state.json.vN.bak`) at its first write under the
 * lock. A file newer than this sandman is refused, never rewritten.
 *
 * - 1 → 2 (this round: users' queue default, the SSH gateway, stop/start, disk quotas): every new
 *   field is optional and means "as before" when absent, so sessions, users and the queue carry
 *   over as they are; the counter of GPUs freed by stops starts at 0. Sessions from version 1 have
 *   no gateway key yet: their next `session extend` or `session start` gives it to them.
 */
const STEPS: Record<number, (data: Record<string, unknown>) => Record<string, unknown>> = {
  1: (data) => {
    const counters = (data.counters ?? undefined) as Record<string, unknown> | undefined;
    return {
      ...data,
      version: 2,
      ...(counters
        ? {counters: {...counters, gpus_freed_by_stop_total: counters.gpus_freed_by_stop_total ?? 0}}
        : {}),
    };
  },
};

/** The oldest version this sandman reads. */
export const OLDEST_STATE_VERSION = 1;

/** A file's data at this sandman's version, and the version it was (migrated when older). */
export function migrate(data: Record<string, unknown>): {state: StateData; from: number} {
  const from = data.version as number;
  let current = data;
  for (let version = from; version < STATE_VERSION; version++) current = STEPS[version]!(current);
  return {state: current as unknown as StateData, from};
}
