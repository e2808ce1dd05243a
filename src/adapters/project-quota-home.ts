import {chmod, chown, mkdir, stat} from 'node:fs/promises';

import {invalidInput} from '../errors.js';
import type {QuotaCommand} from './quota-commands.js';

/**
 * What XFS and ext4 project quotas share (README "Disk quotas"): the project id of a home is its
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
