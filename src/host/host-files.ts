/** Files on the host that doctor reads (unit files, cron, kernel settings), and systemd's units. */
export interface HostFiles {
  exists(file: string): Promise<boolean>;
  /** The file's text, or undefined when it cannot be read. */
  read(file: string): Promise<string | undefined>;
  /** The file's permission bits, or undefined when there is none. */
  mode(file: string): Promise<number | undefined>;
  /** What systemctl says of a unit: is-enabled and is-active (e.g. "enabled", "active"). */
  unitState(unit: string): Promise<{enabled: string; active: string}>;
}
