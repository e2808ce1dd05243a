import {chmod, chown, mkdir, stat} from 'node:fs/promises';

import {invalidInput} from '../../core/errors.js';
import type {HomeDisk, HomeQuotas} from '../home-quotas.js';
import {quotaCommand, type QuotaCommand} from './quota-commands.js';

/**
 * What XFS and ext4 project quotas share (docs/admin/disk-quotas.md): the project id of a home is its
 * owner's uid (stable, and read back from the home itself), a new home is made before its
 * project is set, and `lsattr -pd` tells whether the tree was already given its project (so a
 * changed limit does not walk the whole home again).
 */
export async function makeHome(home: string, uid: number): Promise<void> {
  // xfs_quota splits its -c command on blanks: a path with one would name another directory.
  if (/\s/.test(home))
    throw invalidInput(`a project quota cannot be set on ${JSON.stringify(home)}: the path has a blank`);
  if (await stat(home).catch(() => undefined)) return;
  await mkdir(home, {recursive: true, mode: 0o700});
  await chown(home, uid, uid);
  await chmod(home, 0o700);
}

/** The project id of the home (its owner's uid); undefined when the home is gone. */
export async function projectIdOf(home: string): Promise<number | undefined> {
  return (await stat(home).catch(() => undefined))?.uid;
}

/** `lsattr -pd HOME` (e2fsprogs): the project id its first column shows (real output in test/fixtures/quota). */
export function parseLsattrProject(text: string): number | undefined {
  const match = /^\s*(\d+)\s+\S+\s/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Whether the home directory already carries `projectId` (then its tree was given it before). */
export async function hasProject(run: QuotaCommand, home: string, projectId: number): Promise<boolean> {
  const text = await run('lsattr', ['-pd', home], "reading the home's project").catch(() => '');
  return parseLsattrProject(text) === projectId;
}

/** A quota in the 1 KiB blocks the tools count, rounded up so the limit is never below the size asked. */
export function kibibytes(bytes: number): number {
  return Math.ceil(bytes / 1024);
}

/** What differs between XFS's and ext4's project quotas: the tools that set and read them. */
export interface ProjectQuotaTool {
  mechanism: 'xfs' | 'ext4';
  /** Gives the home's tree the project id, so that new files inherit it. */
  giveProject(run: QuotaCommand, mountPoint: string, home: string, id: number): Promise<void>;
  /** Sets the block hard limit in KiB (0: none). */
  setLimit(run: QuotaCommand, mountPoint: string, id: number, kib: number): Promise<void>;
  /** The project's use and limit in bytes; undefined when the tool does not list it. */
  usage(
    run: QuotaCommand,
    mountPoint: string,
    id: number,
  ): Promise<{used: number; limit: number | null} | undefined>;
}

/**
 * A project quota per home (docs/admin/disk-quotas.md): the project id is the home owner's uid; the
 * tree gets it once (lsattr tells), then only the limit changes; a lifted or detached home keeps
 * no limit behind it.
 */
export class ProjectHomeQuotas implements HomeQuotas {
  readonly mechanism: 'xfs' | 'ext4';

  constructor(
    private readonly tool: ProjectQuotaTool,
    private readonly mountPoint: string,
    private readonly run: QuotaCommand = quotaCommand,
  ) {
    this.mechanism = tool.mechanism;
  }

  async apply(home: string, uid: number, limit: number): Promise<void> {
    await makeHome(home, uid);
    if (!(await hasProject(this.run, home, uid)))
      await this.tool.giveProject(this.run, this.mountPoint, home, uid);
    await this.tool.setLimit(this.run, this.mountPoint, uid, kibibytes(limit));
  }

  async lift(home: string): Promise<void> {
    const id = await projectIdOf(home);
    if (id !== undefined) await this.tool.setLimit(this.run, this.mountPoint, id, 0);
  }

  async ready(): Promise<void> {}

  // The home is about to be deleted: its project keeps no limit behind it.
  async detach(home: string): Promise<void> {
    await this.lift(home);
  }

  async usage(home: string): Promise<HomeDisk | undefined> {
    const id = await projectIdOf(home);
    if (id === undefined) return undefined;
    const report = await this.tool.usage(this.run, this.mountPoint, id);
    return report && {...report, mechanism: this.mechanism};
  }
}
