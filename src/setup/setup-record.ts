import {stateUnavailable} from '../core/errors.js';

/** Where systemd looks for units, and where cron takes job files from (the defaults of both). */
export const SYSTEMD_UNIT_DIR = '/etc/systemd/system';
export const DEFAULT_CRON_FILE = '/etc/cron.d/sandman';

/**
 * Where the reaper runs from: units systemd runs (enabled by setup), units only written to a
 * directory (`--unit-dir`, enabled by the admin), or a cron file on a host without systemd.
 */
export type ReaperLocation =
  {kind: 'systemd'; dir: string} | {kind: 'units'; dir: string} | {kind: 'cron'; file: string};

/**
 * `setup`'s record of this host (`<stateDir>/setup.json`): where it put the reaper, so a later
 * setup, doctor and `setup --remove` find it without being told again, and what it made, so
 * `setup --remove` takes away exactly that and leaves what was there before.
 */
export interface SetupRecord {
  version: 1;
  /** When setup last ran: doctor waits three reaper intervals from then for a first reap. */
  at?: string;
  reaper?: ReaperLocation;
  /** `setup --gateway`: the gateway's units went beside the reaper's (systemd or a unit directory). */
  gateway?: boolean;
  /** `setup --self-serve`: the in-session sandman's units went beside the reaper's. */
  selfServe?: boolean;
  made: {
    /** The config file, when setup wrote it first. */
    configFile?: string;
    /** The workspace image, when setup built it. */
    image?: string;
    /** The sessions' network, when setup created it. */
    network?: string;
    /** The API's token file, when setup made it (apiListen set; docs/admin/http-api.md). */
    apiTokenFile?: string;
    /** Directories setup created (state, keys, workspace root). */
    directories: string[];
  };
}

export function emptyRecord(): SetupRecord {
  return {version: 1, made: {directories: []}};
}

export async function readSetupRecord(
  read: (file: string) => Promise<string | undefined>,
  file: string,
): Promise<SetupRecord | undefined> {
  const text = await read(file);
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as SetupRecord;
    if (record.version !== 1 || typeof record.made !== 'object') throw new Error('unknown version');
    return record;
  } catch (error) {
    throw stateUnavailable(
      `setup record ${file} is unreadable (${(error as Error).message}); move it aside and run "sandman setup" again`,
    );
  }
}

/**
 * The reaper's place: what the command line says, else what setup recorded, else systemd's
 * directory where systemd runs the host, else the cron file.
 */
export function reaperLocation(
  given: {unitDir?: string; cronFile?: string},
  record: SetupRecord | undefined,
  systemd: boolean,
): ReaperLocation {
  if (given.unitDir !== undefined) return {kind: 'units', dir: given.unitDir};
  if (given.cronFile !== undefined) return {kind: 'cron', file: given.cronFile};
  if (record?.reaper) return record.reaper;
  return systemd ? {kind: 'systemd', dir: SYSTEMD_UNIT_DIR} : {kind: 'cron', file: DEFAULT_CRON_FILE};
}

export function describeReaper(location: ReaperLocation): string {
  return location.kind === 'cron' ? `cron job in ${location.file}` : `units in ${location.dir}`;
}
