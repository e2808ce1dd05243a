import {constants} from 'node:fs';
import {copyFile, mkdir, readFile} from 'node:fs/promises';
import path from 'node:path';

import type {Low} from 'lowdb';

import {errnoCode, isSandmanError, stateUnavailable} from '../../core/errors.js';
import {emptyState, STATE_VERSION, type StateData} from '../state-data.js';
import {migrate, OLDEST_STATE_VERSION} from '../migrations.js';
import type {StateStore} from '../state-store.js';
import {replaceFile} from '../../core/adapters/replace-file.js';
import {runProgram} from '../../core/adapters/run-program.js';

const recovery = (file: string) =>
  `; it was left untouched. Run "sandman doctor" for how to recover (restore a backup or move ${file} aside)`;

/** Parses and checks the file's text; anything unexpected is exit 7, and the file is never rewritten. */
export function parseState(file: string, text: string): StateData {
  return parseStateVersion(file, text).state;
}

/**
 * The state and the version the file had: an earlier one is migrated in memory (docs/admin/upgrades-and-backups.md "Upgrading"); a later one is refused (exit 7) and the file left as it is.
 */
export function parseStateVersion(file: string, text: string): {state: StateData; from: number} {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const reason =
      text.trim() === ''
        ? 'is empty'
        : `is not valid JSON (${(error as Error).message.replace(/\s+/g, ' ')})`;
    throw stateUnavailable(`state file ${file} ${reason}${recovery(file)}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw stateUnavailable(`state file ${file} does not hold a JSON object${recovery(file)}`);
  }
  const raw = data as Record<string, unknown>;
  const version = raw.version;
  if (typeof version === 'number' && Number.isInteger(version) && version > STATE_VERSION)
    throw stateUnavailable(
      `state file ${file} is version ${version}, newer than this sandman (version ${STATE_VERSION}): upgrade sandman; the file was left untouched`,
    );
  if (typeof version !== 'number' || !Number.isInteger(version) || version < OLDEST_STATE_VERSION) {
    throw stateUnavailable(
      `state file ${file} has unknown version ${JSON.stringify(version)} (this sandman reads versions ${OLDEST_STATE_VERSION} to ${STATE_VERSION})${recovery(file)}`,
    );
  }
  if (!Array.isArray(raw.sessions)) {
    throw stateUnavailable(`state file ${file} has no "sessions" list${recovery(file)}`);
  }
  const {state, from} = migrate(raw);
  return {
    state: {...state, version: STATE_VERSION, sessions: state.sessions, users: state.users ?? {}},
    from,
  };
}

/** Where the file as an earlier version wrote it is kept when this sandman first rewrites it. */
export function backupPath(file: string, version: number): string {
  return `${file}.v${version}.bak`;
}

const serialize = (data: StateData) => JSON.stringify(data, null, 2) + '\n';

/** A group's ID from the account database (getent, so LDAP/SSSD count); undefined when it has none. */
async function groupId(name: string): Promise<number | undefined> {
  const result = await runProgram('getent', ['group', name]).catch(() => undefined);
  const gid = result?.exitCode === 0 ? Number(result.stdout.split(':')[2]) : NaN;
  return Number.isInteger(gid) ? gid : undefined;
}

/**
 * The state names users, uids, ports and keys: the file is 0640 root:`group` (apiSocketGroup),
 * or 0600 when that group does not exist, set on every write (each write is a new file).
 */
export class LowdbStateStore implements StateStore {
  readonly file: string;
  readonly #lockTimeout: number;
  readonly #group: string | undefined;
  #gid: Promise<number | undefined> | undefined;

  constructor(file: string, options: {lockTimeout: number; group?: string}) {
    this.file = path.resolve(file);
    this.#lockTimeout = options.lockTimeout;
    this.#group = options.group;
  }

  #unreadable(error: unknown): Error {
    const hint =
      errnoCode(error) === 'EACCES' && this.#group ? `; run as root or join group ${this.#group}` : '';
    return stateUnavailable(`cannot read state file ${this.file}: ${(error as Error).message}${hint}`, error);
  }

  /**
   * Atomic, as lowdb's own write (temp file + rename), but with the mode and group set before the
   * file takes the name, which lowdb's writer (steno) cannot: no moment of 0644.
   */
  async #write(data: StateData): Promise<void> {
    const gid = this.#group ? await (this.#gid ??= groupId(this.#group)) : undefined;
    await replaceFile(this.file, serialize(data), gid === undefined ? 0o600 : 0o640, gid);
  }

  async #db(onVersion: (from: number) => void): Promise<Low<StateData>> {
    const [{Low}, {DataFile}] = await Promise.all([import('lowdb'), import('lowdb/node')]);
    // Built by hand rather than with JSONFilePreset, which keeps data in memory when NODE_ENV=test.
    const adapter = new DataFile<StateData>(this.file, {
      parse: (text) => {
        const {state, from} = parseStateVersion(this.file, text);
        onVersion(from);
        return state;
      },
      stringify: serialize,
    });
    return new Low<StateData>(adapter, emptyState());
  }

  /**
   * A plain read: writes are atomic renames, so no lock and no lowdb are needed to see a whole file
   * (read-only commands then load neither). A missing file is the empty state, as lowdb has it.
   */
  async read(): Promise<StateData> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return emptyState();
      throw this.#unreadable(error);
    }
    return parseState(this.file, text);
  }

  async diskVersion(): Promise<number | undefined> {
    const text = await readFile(this.file, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseStateVersion(this.file, text).from;
  }

  async update<T>(mutate: (state: StateData) => T | Promise<T>): Promise<T> {
    let compromised: Error | undefined;
    const release = await this.#lock((error) => {
      compromised = error;
    });
    try {
      let from = STATE_VERSION;
      const db = await this.#db((version) => (from = version));
      await db.read().catch((error: unknown) => {
        if (isSandmanError(error)) throw error;
        throw this.#unreadable(error);
      });
      const before = JSON.stringify(db.data);
      const result = await mutate(db.data);
      if (JSON.stringify(db.data) !== before) {
        if (compromised) {
          throw stateUnavailable(
            `lost the lock on ${this.file} (${compromised.message}); nothing was written`,
          );
        }
        // The first write of a file an earlier sandman wrote keeps that file beside it.
        if (from < STATE_VERSION)
          await copyFile(this.file, backupPath(this.file, from), constants.COPYFILE_EXCL).catch(
            (error: unknown) => {
              if (errnoCode(error) !== 'EEXIST')
                throw stateUnavailable(
                  `cannot keep a copy of ${this.file} before migrating it: ${(error as Error).message}`,
                );
            },
          );
        await this.#write(db.data).catch((error: unknown) => {
          throw stateUnavailable(`cannot write state file ${this.file}: ${(error as Error).message}`, error);
        });
      }
      return result;
    } finally {
      await release().catch(() => undefined);
    }
  }

  async #lock(onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
    const directory = path.dirname(this.file);
    try {
      await mkdir(directory, {recursive: true, mode: 0o755});
    } catch (error) {
      throw stateUnavailable(
        `cannot create state directory ${directory}: ${(error as Error).message}`,
        error,
      );
    }
    let release: (() => Promise<void>) | undefined;
    try {
      // proper-lockfile (and graceful-fs under it) loads only for writes: reads take no lock.
      const {acquireFileLock} = await import('./file-lock.js');
      release = await acquireFileLock(this.file, {waitMs: this.#lockTimeout, onCompromised});
    } catch (error) {
      throw stateUnavailable(`cannot lock state file ${this.file}: ${(error as Error).message}`, error);
    }
    if (!release) {
      throw stateUnavailable(
        `state file ${this.file} is locked by another sandman process; gave up after ${this.#lockTimeout / 1000}s ` +
          `(lockTimeout). If no sandman is running, the lock ${this.file}.lock is removed automatically once stale.`,
      );
    }
    return release;
  }
}
