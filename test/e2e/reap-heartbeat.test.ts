import {readFile, writeFile} from 'node:fs/promises';
import path from 'node:path';

import {execa} from 'execa';
import {afterAll, beforeAll, describe, expect, it} from 'vitest';

import {createSandbox, type Sandbox} from '../helpers/sandbox.js';
import {editState, readState} from '../helpers/state-file.js';

/**
 * A reaper that is installed but never runs (docs/admin/reaper.md "The reaper"): here a cron file with no cron
 * daemon on this machine, as on a host where cron is missing. doctor tells from the state's record
 * of the last reap, and the metrics file carries its time.
 */
interface Check {
  name: string;
  status: string;
  detail: string;
  hint: string;
}

const minutesAgo = (minutes: number) =>
  new Date(Date.now() - minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('doctor and a reaper that does not run', () => {
  let sandbox: Sandbox;
  let cron: string;
  let env: Record<string, string>;
  beforeAll(() => {
    sandbox = createSandbox({portStart: 36_500, portCount: 5});
    cron = path.join(sandbox.dir, 'cron.d', 'sandman');
    env = {SANDMAN_METRICS_FILE: path.join(sandbox.dir, 'sandman.prom')};
  });
  afterAll(async () => {
    await sandbox.cleanup();
  });

  const reaperCheck = async () => {
    const result = await sandbox.json<{ok: boolean; checks: Check[]}>(['doctor'], {env});
    expect(result.exitCode, JSON.stringify(result.body)).toBe(0);
    return result.body.checks.find((check) => check.name === 'reaper')!;
  };

  it('warns when no reap ran since setup, with the likely cause, and not in the first intervals', async () => {
    const setup = await sandbox.json<{checks: Check[]}>(
      ['setup', '--ssh-host', '127.0.0.1', '--cron-file', cron],
      {env},
    );
    expect(setup.exitCode, JSON.stringify(setup.body)).toBe(0);
    // Just set up: the first reap is not due yet.
    expect(await reaperCheck()).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^cron job in .*; no reap yet since setup \d+s ago$/),
    });
    // Ten minutes later (setup's record made older), still no reap: no cron daemon runs here.
    const record = path.join(path.dirname(sandbox.stateFile), 'setup.json');
    const written = JSON.parse(await readFile(record, 'utf8')) as {at: string};
    await writeFile(record, JSON.stringify({...written, at: minutesAgo(10)}));
    const stale = await reaperCheck();
    expect(stale).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(
        /^cron job in .*, but no reap has run since setup \(.*\), more than 3 intervals of 1 minute\(s\): expired sessions are not removed$/,
      ),
    });
    expect(stale.hint).toContain('likely no cron daemon runs, or the job fails');
    expect(stale.hint).toContain(cron);
  });

  it('is ok after a reap, warns when the last reap is old, and the metric carries its time', async () => {
    expect((await sandbox.run(['reap'], {env})).exitCode).toBe(0);
    expect(await reaperCheck()).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/; last reap \d+s ago$/),
    });
    const last = (await readState(sandbox.stateFile)).counters!.last_reap_at!;
    const metrics = await readFile(env.SANDMAN_METRICS_FILE!, 'utf8');
    expect(metrics).toMatch(
      new RegExp(`^sandman_last_reap_timestamp_seconds ${Date.parse(last) / 1000}$`, 'm'),
    );
    expect((await execa('promtool', ['check', 'metrics'], {input: metrics, reject: false})).exitCode).toBe(0);

    const old = minutesAgo(7);
    await editState(sandbox.stateFile, (state) => {
      state.counters!.last_reap_at = old;
    });
    const stale = await reaperCheck();
    expect(stale).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining(`but the last reap was 7m ago (${old}), more than 3 intervals`),
      hint: expect.stringContaining('"sandman reap" by hand removes what is overdue now'),
    });
    const human = await sandbox.run(['doctor'], {env});
    expect(human.stdout).toMatch(/^reaper\s+warn\s+/m);
  });
});

describe('the first reap on a fresh host', () => {
  it('runs before anything wrote the state (the timer can come first) and records its time', async () => {
    const fresh = createSandbox({portStart: 36_505, portCount: 1});
    try {
      const reap = await fresh.json<{reaped: unknown[]}>(['reap']);
      expect(reap.exitCode, reap.stderr).toBe(0);
      expect((await readState(fresh.stateFile)).counters!.last_reap_at).toMatch(/^\d{4}-.*Z$/);
    } finally {
      await fresh.cleanup();
    }
  });
});
