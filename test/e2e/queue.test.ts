import {appendFile, readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';

import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {BIN} from '../helpers/constants.js';
import {devicesSeenByHook, fakeGpuEnv} from '../helpers/fake-gpu.js';
import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {readState} from '../helpers/state-file.js';

/**
 * The queue on the replayed 8-GPU host (docs/admin/users-and-limits.md "Users and limits"): creates that find nothing free
 * wait in line, and a `session rm` starts the users with the fewest GPU-hours, without a reap.
 */
let sandbox: Sandbox;
let gpu: Record<string, string>;
beforeAll(() => {
  sandbox = createSandbox({portStart: 34_820, portCount: 30});
  gpu = fakeGpuEnv(sandbox.dir, 'rtx-pro-6000-x8-no-mig');
});
afterAll(async () => {
  await sandbox.cleanup();
});

interface Entry {
  session_id: string;
  ssh_user: string;
  status: string;
  queue_position?: number;
  gpu_uuid?: string | null;
  container_id?: string;
}

async function expectStateAgreesWithDocker(): Promise<void> {
  const state = await readState(sandbox.stateFile);
  expect(state.sessions.map((session) => session.container_id).sort()).toEqual(
    (await sandbox.containers()).sort(),
  );
  const devices = state.sessions.flatMap((session) => (session.gpu_uuid ? [session.gpu_uuid] : []));
  expect(new Set(devices).size, 'a device held twice').toBe(devices.length);
}

describe('the queue', () => {
  it('12 users at once on 8 GPUs: 8 run, 4 wait; two rm start the two with the fewest GPU-hours', async () => {
    const users = Array.from({length: 12}, (_, index) => `q${String(index + 1).padStart(2, '0')}`);
    // GPU-hours in the last week for four of them (whole GPUs, 1 h each per line): q01..q08 have
    // none, so whichever four wait, their order is by these hours, not by arrival.
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const hours: Record<string, number> = {q09: 5, q10: 1, q11: 3, q12: 2};
    for (const [user, count] of Object.entries(hours))
      for (let index = 0; index < count; index++) {
        const start = now - (index + 2) * 3_600_000 * 2;
        await appendFile(
          sandbox.env.SANDMAN_AUDIT_LOG!,
          JSON.stringify({
            time: iso(start),
            actor: 'root',
            action: 'create',
            session: `${user}-${index}`,
            user,
            result: 'ok',
            gpu_uuid: 'GPU-old',
            mig_profile: null,
            gpu_fraction: 1,
            expires_at: iso(start + 3_600_000),
          }) + '\n',
        );
      }
    // The eight without hours first, then the four with: all at once, each --queue --no-wait.
    const first = await Promise.all(
      users.slice(0, 8).map((user) =>
        sandbox.json<Entry>(['session', 'create', user, '--gpu', 'any', '--queue', '--no-wait'], {
          env: gpu,
        }),
      ),
    );
    expect(first.map((result) => result.body.status)).toEqual(Array(8).fill('running'));
    const waiting = await Promise.all(
      users.slice(8).map((user) =>
        sandbox.json<Entry>(['session', 'create', user, '--gpu', 'any', '--queue', '--no-wait'], {
          env: gpu,
        }),
      ),
    );
    expect(waiting.map((result) => [result.exitCode, result.body.status])).toEqual(
      Array(4).fill([0, 'queued']),
    );

    const listed = await sandbox.json<Entry[]>(['session', 'ls'], {env: gpu});
    const queued = listed.body.filter((entry) => entry.status === 'queued');
    // Fewest GPU-hours first: q10 (1), q12 (2), q11 (3), q09 (5).
    expect(queued.map((entry) => [entry.ssh_user, entry.queue_position])).toEqual([
      ['q10', 1],
      ['q12', 2],
      ['q11', 3],
      ['q09', 4],
    ]);
    const table = await sandbox.run(['session', 'ls'], {env: gpu});
    expect(table.stdout).toMatch(/^\S+ +q10 +queued \(1st\) +a whole GPU /m);
    await expectStateAgreesWithDocker();

    // Two sessions end: within that rm, with no reap, q10 and q12 get their GPUs.
    const removed = await sandbox.json<{removed: Entry[]}>(['session', 'rm', 'q01', 'q02'], {env: gpu});
    expect(removed.exitCode).toBe(0);
    const state = await readState(sandbox.stateFile);
    const started = state.sessions.filter((session) => session.user === 'q10' || session.user === 'q12');
    expect(started.map((session) => session.status)).toEqual(['running', 'running']);
    for (const session of started)
      expect(await devicesSeenByHook(session.container_id!)).toBe(session.gpu_uuid);
    const renumbered = (await sandbox.json<Entry[]>(['session', 'ls'], {env: gpu})).body.filter(
      (entry) => entry.status === 'queued',
    );
    expect(renumbered.map((entry) => [entry.ssh_user, entry.queue_position])).toEqual([
      ['q11', 1],
      ['q09', 2],
    ]);
    await expectStateAgreesWithDocker();
  });

  it('a request past queueTimeout is ended by reap; rm cancels one; 20 mixed operations never give a device twice', async () => {
    const timeout = {...gpu, SANDMAN_QUEUE_TIMEOUT: '1m'};
    // Age q09's request past a minute, as time would.
    const state = JSON.parse(await readFile(sandbox.stateFile, 'utf8')) as {
      queue: Array<{user: string; queued_at: string}>;
    };
    for (const entry of state.queue) if (entry.user === 'q09') entry.queued_at = '2026-01-01T00:00:00Z';
    await writeFile(sandbox.stateFile, JSON.stringify(state));
    const reap = await sandbox.json<{items: Array<{action: string; user: string}>}>(['reap'], {env: timeout});
    expect(reap.body.items).toContainEqual(expect.objectContaining({action: 'end-queued', user: 'q09'}));
    const audit = await readFile(sandbox.env.SANDMAN_AUDIT_LOG!, 'utf8');
    expect(audit).toMatch(
      /"action":"queue","session":"[0-9a-f]{12}","user":"q09","result":"failed","reason":"queue-timeout"/,
    );
    const cancelled = await sandbox.json<{cancelled: string[]}>(['session', 'rm', 'q11'], {env: gpu});
    expect(cancelled.body.cancelled).toHaveLength(1);

    // 20 operations at once: queued creates, removals and reaps.
    const operations = Array.from({length: 20}, (_, index) => {
      if (index % 4 === 0) return sandbox.run(['reap'], {env: gpu});
      if (index % 4 === 1) return sandbox.run(['session', 'rm', `q0${3 + (index >> 2)}`], {env: gpu});
      return sandbox.run(['session', 'create', `m${index}`, '--gpu', 'any', '--queue', '--no-wait'], {
        env: gpu,
      });
    });
    const results = await Promise.all(operations);
    for (const result of results) expect(result.exitCode, result.stderr).toBeLessThan(5);
    await expectStateAgreesWithDocker();
    // Every create is a session or in line: none was lost.
    const after = await readState(sandbox.stateFile);
    const known = new Set([
      ...after.sessions.map((session) => session.user),
      ...(after.queue ?? []).map((entry) => entry.user),
    ]);
    for (let index = 0; index < 20; index++)
      if (index % 4 > 1) expect(known.has(`m${index}`), `m${index}`).toBe(true);
    expect(after.sessions.length).toBeLessThanOrEqual(8);
    expect((await sandbox.run(['session', 'rm', '--all', '--yes'], {env: gpu})).exitCode).toBe(0);
    expect((await readState(sandbox.stateFile)).queue ?? []).toEqual([]);
  });

  it('the API: "queue": true is 202 with the place in line, GET /sessions lists it, a rm starts it', async () => {
    const users = Array.from({length: 8}, (_, index) => `full${index}`);
    await Promise.all(
      users.map((user) => sandbox.run(['session', 'create', user, '--gpu', 'any', '--no-wait'], {env: gpu})),
    );
    const socket = path.join(sandbox.dir, 'api.sock');
    const env = {...sandbox.env, ...gpu};
    const activator = execa(
      'systemd-socket-activate',
      ['-l', socket, ...Object.keys(env).flatMap((name) => ['-E', name]), '-E', 'PATH', 'node', BIN, 'api'],
      {env: {...process.env, ...env}, reject: false},
    );
    try {
      const curl = async (args: string[]) => {
        for (let attempt = 0; attempt < 50; attempt++) {
          const result = await execa(
            'curl',
            ['-s', '-w', '\n%{http_code}', '--unix-socket', socket, ...args],
            {reject: false},
          );
          if (result.exitCode === 0) {
            const lines = String(result.stdout).split('\n');
            return {status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) as Entry & Entry[]};
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error('the API never answered');
      };
      const queued = await curl([
        '-X',
        'POST',
        '-d',
        JSON.stringify({user_id: 'apiq', gpu: 'any', queue: true}),
        'http://x/sessions',
      ]);
      expect(queued.status).toBe(202);
      expect(queued.body).toMatchObject({
        ssh_user: 'apiq',
        status: 'queued',
        queue_position: 1,
        waiting_for: 'a whole GPU',
      });
      const listed = await curl(['http://x/sessions']);
      expect(listed.body.find((entry) => entry.session_id === queued.body.session_id)).toMatchObject({
        status: 'queued',
      });
      // Without "queue", the same request is refused as before.
      expect(
        (
          await curl([
            '-X',
            'POST',
            '-d',
            JSON.stringify({user_id: 'apinq', gpu: 'any'}),
            'http://x/sessions',
          ])
        ).status,
      ).toBe(503);
      expect((await curl(['-X', 'DELETE', 'http://x/sessions/full0'])).status).toBe(200);
      const state = await readState(sandbox.stateFile);
      expect(state.sessions.find((session) => session.user === 'apiq')).toMatchObject({
        id: queued.body.session_id,
        status: 'running',
      });
    } finally {
      activator.kill('SIGKILL');
      await execa('pkill', ['-f', `${BIN} api`], {reject: false});
      await sandbox.run(['session', 'rm', '--all', '--yes'], {env: gpu});
    }
  });
});
