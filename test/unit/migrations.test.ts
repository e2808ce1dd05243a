import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs';
import {readFile, stat} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {backupPath, LowdbStateStore, parseStateVersion} from '../../src/state/adapters/lowdb-state-store.js';
import {STATE_VERSION} from '../../src/state/state-data.js';
import {ROOT} from '../helpers/constants.js';

/** Upgrading (docs/admin/upgrades-and-backups.md "Upgrading"): every earlier state file version, recorded, read by this sandman. */
const V1 = readFileSync(path.join(ROOT, 'test/fixtures/state/v1-previous-release.json'), 'utf8');

describe('state file migrations', () => {
  it('reads version 1 as the previous release wrote it: sessions, users and keys as they were', () => {
    const {state, from} = parseStateVersion('/state.json', V1);
    const original = JSON.parse(V1);
    expect(from).toBe(1);
    expect(state.version).toBe(STATE_VERSION);
    expect(state.sessions).toEqual(original.sessions);
    expect(state.users).toEqual(original.users);
    expect(state.counters).toEqual({...original.counters, gpus_freed_by_stop_total: 0});
    // No gateway key yet: the next extend or start gives it (docs/admin/upgrades-and-backups.md "Upgrading").
    expect(state.sessions.every((session) => session.gateway_key === undefined)).toBe(true);
  });

  it('writes the migrated file at the first write under the lock, keeping the original as state.json.v1.bak', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sandman-migrate-')), 'state.json');
    writeFileSync(file, V1);
    const store = new LowdbStateStore(file, {lockTimeout: 1000});
    // Reading changes nothing on disk.
    expect((await store.read()).version).toBe(STATE_VERSION);
    expect(await readFile(file, 'utf8')).toBe(V1);
    await store.update((state) => {
      state.users.alice!.group = null;
    });
    expect(await readFile(backupPath(file, 1), 'utf8')).toBe(V1);
    const written = JSON.parse(await readFile(file, 'utf8'));
    expect(written.version).toBe(STATE_VERSION);
    // A second write keeps the first backup (the version-1 file), not a version-2 one.
    const backupTime = (await stat(backupPath(file, 1))).mtimeMs;
    await store.update((state) => {
      state.users.alice!.group = 'staff';
    });
    expect((await stat(backupPath(file, 1))).mtimeMs).toBe(backupTime);
    expect(await readFile(backupPath(file, 1), 'utf8')).toBe(V1);
  });

  it('refuses a file newer than this sandman with both versions, and never rewrites it', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sandman-migrate-')), 'state.json');
    const newer = V1.replace('"version": 1', `"version": ${STATE_VERSION + 1}`);
    writeFileSync(file, newer);
    const store = new LowdbStateStore(file, {lockTimeout: 1000});
    const message = `state file ${file} is version ${STATE_VERSION + 1}, newer than this sandman (version ${STATE_VERSION}): upgrade sandman`;
    await expect(store.read()).rejects.toMatchObject({
      exitCode: 7,
      message: expect.stringContaining(message),
    });
    await expect(store.update(() => undefined)).rejects.toMatchObject({exitCode: 7});
    expect(await readFile(file, 'utf8')).toBe(newer);
  });
});
