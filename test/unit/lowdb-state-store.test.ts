import {mkdtempSync} from 'node:fs';
import {mkdir, readFile, stat, utimes, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {execa} from 'execa';
import lockfile from 'proper-lockfile';
import {describe, expect, it} from 'vitest';

import {LowdbStateStore} from '../../src/state/adapters/lowdb-state-store.js';
import type {SessionRecord} from '../../src/state/state-data.js';
import {sessionRecord} from '../helpers/state-file.js';

const tempFile = () => path.join(mkdtempSync(path.join(tmpdir(), 'sandman-state-')), 'sub', 'state.json');

const session = (id: string): SessionRecord => sessionRecord({id, user: `u${id}`});

describe('LowdbStateStore', () => {
  it('starts empty when the file does not exist, and creates it on the first update', async () => {
    const file = tempFile();
    const store = new LowdbStateStore(file, {lockTimeout: 1000});
    expect(await store.read()).toEqual({version: 2, sessions: [], users: {}});
    await store.update((state) => {
      state.sessions.push(session('a1'));
    });
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    expect(onDisk.version).toBe(2);
    expect(onDisk.sessions.map((s: SessionRecord) => s.id)).toEqual(['a1']);
  });

  it('loses no update when many writers race (each holds the lock in turn)', async () => {
    const file = tempFile();
    const writers = Array.from({length: 25}, () => new LowdbStateStore(file, {lockTimeout: 20_000}));
    await Promise.all(
      writers.map((store, index) =>
        store.update(async (state) => {
          await new Promise((resolve) => setTimeout(resolve, 2));
          state.sessions.push(session(`s${index}`));
        }),
      ),
    );
    const state = await writers[0]!.read();
    expect(state.sessions).toHaveLength(25);
    expect(new Set(state.sessions.map((s) => s.id)).size).toBe(25);
  });

  it('does not rewrite the file when nothing changed', async () => {
    const file = tempFile();
    const store = new LowdbStateStore(file, {lockTimeout: 1000});
    await store.update((state) => {
      state.sessions.push(session('a1'));
    });
    const before = (await stat(file)).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.update(() => undefined);
    expect((await stat(file)).mtimeMs).toBe(before);
  });

  it('writes the file 0640 to its group, or 0600 when the group does not exist, tightening a 0644 one', async () => {
    const file = tempFile();
    await mkdir(path.dirname(file), {recursive: true});
    await writeFile(file, JSON.stringify({version: 2, sessions: [], users: {}}), {mode: 0o644});
    const write = (group: string, id: string) =>
      new LowdbStateStore(file, {lockTimeout: 1000, group}).update((state) => {
        state.sessions.push(session(id));
      });
    await write('no-such-group-36', 'a1');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const daemon = Number((await execa('getent', ['group', 'daemon'])).stdout.split(':')[2]);
    await write('daemon', 'a2');
    const {mode, gid} = await stat(file);
    expect({mode: mode & 0o777, gid}).toEqual({mode: 0o640, gid: daemon});
  });

  it.each([
    ['empty', '', /is empty/],
    ['truncated', '{"version": 1, "sessions": [', /not valid JSON/],
    ['not JSON', 'hello', /not valid JSON/],
    ['null', 'null', /JSON object/],
    [
      'an unknown version',
      '{"version": 0, "sessions": []}',
      /unknown version 0 \(this sandman reads versions 1 to 2\)/,
    ],
    [
      'a newer version',
      '{"version": 99, "sessions": []}',
      /is version 99, newer than this sandman \(version 2\): upgrade sandman/,
    ],
    ['without sessions', '{"version": 1}', /no "sessions"/],
  ])(
    'refuses a state file that is %s with exit 7 and leaves it byte-for-byte unchanged',
    async (_name, text, message) => {
      const file = tempFile();
      await mkdir(path.dirname(file), {recursive: true});
      await writeFile(file, text);
      const store = new LowdbStateStore(file, {lockTimeout: 1000});
      await expect(store.read()).rejects.toMatchObject({
        exitCode: 7,
        message: expect.stringMatching(message),
      });
      await expect(store.update((state) => void state.sessions.push(session('x')))).rejects.toMatchObject({
        exitCode: 7,
        message: expect.stringContaining(file),
      });
      expect(await readFile(file, 'utf8')).toBe(text);
    },
  );

  it('waits for a lock held by a live process, then gives up with exit 7 after lockTimeout', async () => {
    const file = tempFile();
    await mkdir(path.dirname(file), {recursive: true});
    const release = await lockfile.lock(file, {realpath: false, lockfilePath: `${file}.lock`});
    try {
      const store = new LowdbStateStore(file, {lockTimeout: 400});
      const started = Date.now();
      await expect(store.update(() => undefined)).rejects.toMatchObject({
        exitCode: 7,
        message: expect.stringContaining('locked by another sandman process'),
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    } finally {
      await release();
    }
  });

  it('takes over a lock left behind by a process that died', async () => {
    const file = tempFile();
    await mkdir(`${file}.lock`, {recursive: true});
    const old = new Date(Date.now() - 60_000);
    await utimes(`${file}.lock`, old, old);
    const store = new LowdbStateStore(file, {lockTimeout: 2000});
    await store.update((state) => void state.sessions.push(session('after-crash')));
    expect((await store.read()).sessions.map((s) => s.id)).toEqual(['after-crash']);
  });
});
