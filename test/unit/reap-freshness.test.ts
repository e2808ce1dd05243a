import {describe, expect, it} from 'vitest';

import {reapFreshness} from '../../src/reap/reap-freshness.js';

const now = new Date('2026-01-01T12:00:00Z');
const cron = {kind: 'cron', file: '/etc/cron.d/sandman'} as const;
const systemd = {kind: 'systemd', dir: '/etc/systemd/system'} as const;
const units = {kind: 'units', dir: '/srv/units'} as const;

describe('reapFreshness (doctor: is the reaper running?)', () => {
  it('is fresh within three intervals of the last reap, and stale after', () => {
    expect(reapFreshness(systemd, '2026-01-01T11:57:00Z', undefined, now)).toEqual({
      stale: false,
      detail: 'last reap 3m ago',
      hint: '',
    });
    const stale = reapFreshness(systemd, '2026-01-01T11:56:59Z', undefined, now);
    expect(stale.stale).toBe(true);
    expect(stale.detail).toBe(
      'the last reap was 3m ago (2026-01-01T11:56:59Z), more than 3 intervals of 1 minute(s): expired sessions are not removed',
    );
    expect(stale.hint).toMatch(
      /^likely the timer is disabled or stopped, or sandman-reap.service fails: check systemctl is-enabled sandman-reap.timer/,
    );
  });

  it('gives a fresh setup three intervals for its first reap; without a setup time, none', () => {
    expect(reapFreshness(cron, null, '2026-01-01T11:59:30Z', now)).toMatchObject({
      stale: false,
      detail: 'no reap yet since setup 30s ago',
    });
    const late = reapFreshness(cron, null, '2026-01-01T11:50:00Z', now);
    expect(late.detail).toMatch(/^no reap has run since setup \(2026-01-01T11:50:00Z\), more than 3/);
    expect(late.hint).toMatch(
      /^likely no cron daemon runs, or the job fails: .* \/etc\/cron.d\/sandman by hand/,
    );
    expect(reapFreshness(units, undefined, undefined, now)).toMatchObject({
      stale: true,
      detail: expect.stringMatching(/^no reap has run since setup, /),
      hint: expect.stringMatching(/^likely the timer in \/srv\/units was never enabled/),
    });
  });
});
