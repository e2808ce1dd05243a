/** Time, behind an interface so tests and the reaper can reason about expiry deterministically. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = {now: () => new Date()};

/** ISO 8601 UTC without milliseconds, as the state file and JSON output write times. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
