import {setTimeout as sleep} from 'node:timers/promises';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {createSandbox, type Sandbox} from '../helpers/sandbox.js';

/** Usage accounting (docs/admin/users-and-limits.md "Usage accounting") over sessions made and removed on the real engine. */
let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox({portStart: 33_900, portCount: 5});
});
afterAll(async () => {
  await sandbox.cleanup();
});

describe('sandman usage', () => {
  it('gives each user’s hours in JSON and CSV, a removed session and a running one alike', async () => {
    for (const user of ['ulla', 'uwe']) {
      expect((await sandbox.run(['session', 'create', user, '--no-gpu', '--no-wait'])).exitCode).toBe(0);
    }
    await sleep(3_000);
    expect((await sandbox.run(['session', 'rm', 'ulla'])).exitCode).toBe(0);
    const json = await sandbox.json<{
      by: string;
      rows: Array<{key: string; sessions: number; session_hours: number; gpu_hours: number}>;
      total: {sessions: number};
    }>(['usage', '--since', '1h']);
    expect(json.exitCode).toBe(0);
    expect(json.body.by).toBe('user');
    expect(json.body.rows.map((row) => row.key).sort()).toEqual(['ulla', 'uwe']);
    for (const row of json.body.rows) {
      expect(row.sessions).toBe(1);
      expect(row.session_hours).toBeGreaterThan(0.0005);
      expect(row.gpu_hours).toBe(0);
    }
    const csv = await sandbox.run(['usage', '--since', '1h', '--by', 'profile', '--csv']);
    expect(csv.exitCode).toBe(0);
    const [header, ...rows] = csv.stdout.trim().split('\n');
    expect(header).toBe('profile,sessions,session_hours,gpu_hours,unknown_gpu,stopped_hours');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatch(/^no GPU,2,0\.\d+,0,0,0$/);
    const table = await sandbox.run(['usage', '--since', '1h']);
    expect(table.stdout).toMatch(/^TOTAL\s+2\s+/m);
    expect((await sandbox.run(['usage', '--by', 'team'])).exitCode).toBe(2);
    expect((await sandbox.run(['session', 'rm', 'uwe'])).exitCode).toBe(0);
  });
});
