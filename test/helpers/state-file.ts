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

/** A plain running record with no GPU, for tests that write state directly. */
export function sessionRecord(overrides: Partial<SessionRecord> & {id: string; user: string}): SessionRecord {
  return {
    status: 'running',
    container_id: null,
    container_name: `sandman-${overrides.user}-${overrides.id}`,
    image: 'img',
    ssh_port: 10000,
    ssh_host: 'h',
    ssh_private_key_path: null,
    gpu_uuid: null,
    gpu_index: null,
    mig_profile: null,
    mig_created: false,
    mig_gpu_instance: null,
    mig_compute_instance: null,
    uid: 20000,
    workspace: '/w',
    created_at: '2026-01-01T00:00:00Z',
    expires_at: '2026-01-01T01:00:00Z',
    creator_pid: 1,
    ...overrides,
  };
}
