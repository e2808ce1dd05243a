import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {gzipSync} from 'node:zlib';

import {describe, expect, it} from 'vitest';

import {RotatedAuditFiles} from '../../src/audit/adapters/rotated-audit-files.js';
import {migFraction} from '../../src/gpu/mig-slices.js';
import {intervalsFromAudit, summarise} from '../../src/usage/usage-report.js';
import {parseWhen} from '../../src/usage/usage-service.js';

/**
 * A hand-written audit log, the answer worked out by hand. The period is 2026-11-02 00:00 to
 * 2026-11-03 00:00 UTC (24 h).
 */
const line = (entry: Record<string, unknown>) => JSON.stringify({actor: 'root', result: 'ok', ...entry});
const LOG = [
  // alice: 3g.20gb on a 7-slice A100 (3/7), from 11-01 22:00 to 11-02 04:00 → 4 h in the period.
  line({
    time: '2026-11-01T22:00:00Z',
    action: 'create',
    session: 'a1',
    user: 'alice',
    mig_profile: '3g.20gb',
    gpu_uuid: 'MIG-a',
    gpu_fraction: 3 / 7,
    expires_at: '2026-11-02T00:00:00Z',
  }),
  line({
    time: '2026-11-01T23:30:00Z',
    action: 'extend',
    session: 'a1',
    user: 'alice',
    expires_at: '2026-11-02T06:00:00Z',
  }),
  line({time: '2026-11-02T04:00:00Z', action: 'rm', session: 'a1', user: 'alice'}),
  // bob: a whole GPU from 11-02 10:00, reaped (expired) at 16:00 → 6 h, 6 GPU-h.
  line({
    time: '2026-11-02T10:00:00Z',
    action: 'create',
    session: 'b1',
    user: 'bob',
    mig_profile: null,
    gpu_uuid: 'GPU-b',
    gpu_fraction: 1,
    expires_at: '2026-11-02T16:00:00Z',
  }),
  line({time: '2026-11-02T16:00:00Z', action: 'reap', session: 'b1', user: 'bob', reason: 'expired'}),
  // bob again: no GPU, from 11-02 20:00 past the period's end → 4 h, 0 GPU-h.
  line({
    time: '2026-11-02T20:00:00Z',
    action: 'create',
    session: 'b2',
    user: 'bob',
    mig_profile: null,
    gpu_uuid: null,
    gpu_fraction: null,
    expires_at: '2026-11-03T08:00:00Z',
  }),
  // carol: a line from before usage was recorded (no GPU share), 2 h; resumed after a reboot
  // (not an end), then removed.
  line({
    time: '2026-11-02T12:00:00Z',
    action: 'create',
    session: 'c1',
    user: 'carol',
    expires_at: '2026-11-02T18:00:00Z',
  }),
  line({
    time: '2026-11-02T13:00:00Z',
    action: 'reap',
    session: 'c1',
    user: 'carol',
    reason: 'stopped: container started again',
    ended: false,
  }),
  line({time: '2026-11-02T14:00:00Z', action: 'rm', session: 'c1', user: 'carol'}),
  // A failed create counts nothing; a foreign line and a torn last line are skipped.
  line({time: '2026-11-02T15:00:00Z', action: 'create', session: null, user: 'dave', result: 'failed'}),
  'Nov  2 15:00:01 gpu01 CRON[123]: (root) CMD (sandman reap)',
  '{"time":"2026-11-02T23:59:00Z","actor":"root","action":"crea',
];
const PERIOD = {since: Date.parse('2026-11-02T00:00:00Z'), until: Date.parse('2026-11-03T00:00:00Z')};

describe('usage from the audit log', () => {
  it('sums session-hours and GPU-hours per user, clipped to the period', () => {
    const {intervals, skipped} = intervalsFromAudit(LOG);
    expect(skipped).toBe(2);
    const report = summarise(intervals.values(), {...PERIOD, by: 'user'}, skipped);
    expect(report.rows).toEqual([
      {key: 'bob', sessions: 2, session_hours: 10, stopped_hours: 0, gpu_hours: 6, unknown_gpu: 0},
      {key: 'alice', sessions: 1, session_hours: 4, stopped_hours: 0, gpu_hours: 1.714286, unknown_gpu: 0},
      {key: 'carol', sessions: 1, session_hours: 2, stopped_hours: 0, gpu_hours: 0, unknown_gpu: 1},
    ]);
    expect(report.total).toEqual({
      key: 'TOTAL',
      sessions: 4,
      session_hours: 16,
      stopped_hours: 0,
      gpu_hours: 7.714286,
      unknown_gpu: 1,
    });
    expect(report.skipped_lines).toBe(2);
  });

  it('groups by profile, GPU and day', () => {
    const {intervals} = intervalsFromAudit(LOG);
    const profile = summarise(intervals.values(), {...PERIOD, by: 'profile'}).rows.map((row) => [
      row.key,
      row.session_hours,
    ]);
    expect(profile).toEqual([
      ['whole GPU', 6],
      ['3g.20gb', 4],
      ['no GPU', 4],
      ['unknown', 2],
    ]);
    const gpu = summarise(intervals.values(), {...PERIOD, by: 'gpu'}).rows.map((row) => row.key);
    expect(gpu).toEqual(['GPU-b', 'MIG-a', 'no GPU', 'unknown']);
    const days = summarise(intervals.values(), {
      since: Date.parse('2026-11-01T00:00:00Z'),
      until: PERIOD.until,
      by: 'day',
    });
    expect(days.rows.map((row) => [row.key, row.session_hours]).sort()).toEqual([
      ['2026-11-01', 2],
      ['2026-11-02', 16],
    ]);
  });

  it('a MIG slice is its share of the GPU; dates and durations for the period', () => {
    expect(migFraction('3g.20gb', 7)).toBeCloseTo(3 / 7);
    expect(migFraction('1c.2g.10gb', 7)).toBeCloseTo(2 / 7);
    expect(migFraction('2g.12gb', 4)).toBe(0.5);
    const now = Date.parse('2026-11-24T12:00:00Z');
    expect(parseWhen('30d', now, '--since')).toBe(Date.parse('2026-10-25T12:00:00Z'));
    expect(parseWhen('2026-11-01', now, '--since')).toBe(Date.parse('2026-11-01T00:00:00Z'));
    expect(() => parseWhen('last week', now, '--since')).toThrow(/invalid --since/);
  });

  it('reads rotated files, gzipped ones too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sandman-audit-'));
    const file = path.join(dir, 'audit.jsonl');
    writeFileSync(file, LOG.slice(6).join('\n') + '\n');
    writeFileSync(`${file}.1`, LOG.slice(3, 6).join('\n') + '\n');
    writeFileSync(`${file}.2.gz`, gzipSync(LOG.slice(0, 3).join('\n') + '\n'));
    writeFileSync(
      path.join(dir, 'other.jsonl'),
      line({time: '2026-11-02T01:00:00Z', action: 'create', session: 'x', user: 'x'}),
    );
    const {lines, files} = await new RotatedAuditFiles(file).lines();
    expect(files.map((name) => path.basename(name))).toEqual([
      'audit.jsonl',
      'audit.jsonl.1',
      'audit.jsonl.2.gz',
    ]);
    const report = summarise(intervalsFromAudit(lines).intervals.values(), {...PERIOD, by: 'user'});
    expect(report.total.gpu_hours).toBe(7.714286);
  });
});

describe('usage of a stopped session (docs/admin/sessions.md "Stop and start")', () => {
  it('counts no GPU-hours while stopped and splits session-hours into running and stopped', () => {
    const lines = [
      line({
        time: '2026-11-02T10:00:00Z',
        action: 'create',
        session: 's1',
        user: 'sam',
        mig_profile: '4g.20gb',
        gpu_uuid: 'MIG-s',
        gpu_fraction: 0.5,
        expires_at: '2026-11-02T12:00:00Z',
      }),
      line({time: '2026-11-02T11:00:00Z', action: 'stop', session: 's1', user: 'sam', gpu_uuid: 'MIG-s'}),
      // Stopped for 2 h; started with 1 h left, on another device of its profile.
      line({
        time: '2026-11-02T13:00:00Z',
        action: 'start',
        session: 's1',
        user: 'sam',
        gpu_uuid: 'MIG-t',
        mig_profile: '4g.20gb',
        expires_at: '2026-11-02T14:00:00Z',
      }),
      line({time: '2026-11-02T14:00:00Z', action: 'rm', session: 's1', user: 'sam'}),
    ];
    const {intervals} = intervalsFromAudit(lines);
    const report = summarise(intervals.values(), {
      since: Date.parse('2026-11-02T00:00:00Z'),
      until: Date.parse('2026-11-03T00:00:00Z'),
      by: 'user',
    });
    expect(report.rows).toEqual([
      {key: 'sam', sessions: 1, session_hours: 4, stopped_hours: 2, gpu_hours: 1, unknown_gpu: 0},
    ]);
  });
});
