import {readFile, writeFile} from 'node:fs/promises';

import type {SessionRecord, StateData} from '../../src/state/state-data.js';

/** Edits the state file directly, as a test standing in for the passage of time or a crash. */
export async function editState(file: string, edit: (state: StateData) => void): Promise<void> {
  const state = JSON.parse(await readFile(file, 'utf8')) as StateData;
  edit(state);
  await writeFile(file, JSON.stringify(state, null, 2));
}

export async function readState(file: string): Promise<StateData> {
  return JSON.parse(await readFile(file, 'utf8')) as StateData;
}

export function sessionOf(state: StateData, user: string): SessionRecord | undefined {
  return state.sessions.find((session) => session.user === user);
}

export const PAST = '2020-01-01T00:00:00Z';
