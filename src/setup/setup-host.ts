/** The host as setup changes it (implemented on the file system and systemctl). */
export interface SetupHost {
  /** Mode of an existing directory, undefined when there is none. */
  directoryMode(dir: string): Promise<number | undefined>;
  /** Mode of an existing file, undefined when there is none. */
  fileMode(file: string): Promise<number | undefined>;
  makeDirectory(dir: string, mode: number): Promise<void>;
  read(file: string): Promise<string | undefined>;
  write(file: string, text: string, mode: number): Promise<void>;
  /** Removes a file; false when there was none. */
  remove(file: string): Promise<boolean>;
  /** Removes a directory and everything in it; false when there was none. */
  removeTree(dir: string): Promise<boolean>;
  /** Removes a directory only when it is empty (an admin's files in it stay). */
  removeEmptyDirectory(dir: string): Promise<void>;
  /** Whether systemd runs this host (PID 1). */
  systemd(): Promise<boolean>;
  systemctl(args: string[]): Promise<void>;
}

export interface SetupStep {
  step: string;
  /** done: changed now; ok: already so; would: a dry run's change; kept: left as it was on purpose. */
  status: 'done' | 'ok' | 'would' | 'kept';
  detail: string;
}

/** Runs one step's change, or says what it would do on a dry run. */
export type Change = (step: string, detail: string, work: () => Promise<void>) => Promise<unknown>;
