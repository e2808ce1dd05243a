/** This host's processes, as the reaper and create see them. */
export interface Processes {
  /** This process (recorded on reservations, so a crashed create is recognised at once). */
  readonly pid: number;
  alive(pid: number): boolean;
}
