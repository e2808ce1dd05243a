/** Files on the host that doctor reads (unit files, cron, kernel settings). */
export interface HostFiles {
  exists(file: string): Promise<boolean>;
  /** The file's text, or undefined when it cannot be read. */
  read(file: string): Promise<string | undefined>;
}
