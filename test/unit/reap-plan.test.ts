import {describe, expect, it} from 'vitest';

import type {ContainerSummary} from '../../src/runtime/docker/container-client.js';
import {LABELS} from '../../src/core/labels.js';
import {countEstablished} from '../../src/ssh/proc-net-tcp.js';
import {planReap} from '../../src/reap/reap-plan.js';
import type {SessionRecord} from '../../src/state/state-data.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const record = (id: string, changes: Partial<SessionRecord> = {}): SessionRecord =>
  ({
    id,
    user: `u${id}`,
    status: 'running',
    container_id: `c-${id}`,
    container_name: `sandman-u${id}-${id}`,
    created_at: '2026-11-23T11:00:00Z',
    expires_at: '2026-11-23T13:00:00Z',
    creator_pid: 1,
    ...changes,
  }) as SessionRecord;
const container = (id: string, session?: string): ContainerSummary => ({
  id,
  name: `n-${id}`,
  state: 'running',
  labels: session ? {[LABELS.session]: session} : {},
});

const WEEK = 7 * 86_400_000;

describe('planReap', () => {
  it('finds expired, dangling, stale and orphaned items, and nothing else', () => {
    const sessions = [
      record('live'),
      record('expired', {expires_at: '2026-11-23T12:00:00Z'}),
      record('dangling'),
      record('stale', {status: 'creating', container_id: null, created_at: '2026-11-23T11:49:00Z'}),
      record('young', {status: 'creating', container_id: null, created_at: '2026-11-23T11:55:00Z'}),
      record('dead', {
        status: 'creating',
        container_id: null,
        created_at: '2026-11-23T11:59:00Z',
        creator_pid: 42,
      }),
      record('half', {status: 'removing'}),
    ];
    const containers = [
      container('c-live', 'live'),
      container('c-expired', 'expired'),
      container('c-half', 'half'),
      container('c-young', 'young'),
      container('stray', 'gone'),
      container('nolabel'),
    ];
    const plan = planReap({
      sessions,
      containers,
      now: NOW,
      isAlive: (pid) => pid !== 42,
      stoppedRetentionMs: WEEK,
    });
    expect(plan.map((target) => [target.reason, target.session?.id ?? target.container?.id])).toEqual([
      ['expired', 'expired'],
      ['dangling', 'dangling'],
      ['stale', 'stale'],
      ['stale', 'dead'],
      ['expired', 'half'],
      ['orphan', 'stray'],
      ['orphan', 'nolabel'],
    ]);
  });

  it('ends a stopped session by retention, never by its paused expiry, and with its container gone', () => {
    const stopped = (id: string, stoppedAt: number) =>
      ({
        ...record(id, {expires_at: new Date(NOW - 3_600_000).toISOString()}),
        status: 'stopped',
        stopped_at: new Date(stoppedAt).toISOString(),
      }) as SessionRecord;
    const sessions = [
      stopped('paused', NOW - 60_000),
      stopped('old', NOW - WEEK - 1000),
      stopped('lost', NOW),
    ];
    const containers = [container('c-paused', 'paused'), container('c-old', 'old')];
    expect(
      planReap({sessions, containers, now: NOW, isAlive: () => true, stoppedRetentionMs: WEEK}).map(
        (target) => [target.reason, target.session?.id],
      ),
    ).toEqual([
      ['retention', 'old'],
      ['dangling', 'lost'],
    ]);
  });

  it('has nothing to do for live sessions with their containers', () => {
    const sessions = Array.from({length: 50}, (_, index) => record(`s${index}`));
    const containers = sessions.map((session) => container(session.container_id!, session.id));
    expect(planReap({sessions, containers, now: NOW, isAlive: () => true, stoppedRetentionMs: WEEK})).toEqual(
      [],
    );
  });
});

describe('countEstablished', () => {
  // Written for this test in the kernel's /proc/net/tcp{,6} format; the idle e2e test reads real tables.
  const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20449 1 0000000000000000 100 0 0 10 0
   1: 020012AC:0016 010012AC:C6E2 01 00000000:00000000 02:000A7D3B 00000000     0        0 21210 2 0000000000000000 20 4 31 10 -1
   2: 020012AC:9C40 010012AC:0016 01 00000000:00000000 00:00000000 00000000     0        0 21211 1 0000000000000000 20 4 31 10 -1
   3: 020012AC:0016 010012AC:C6E4 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
`;
  const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 20451 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF0000020012AC:0016 0000000000000000FFFF0000010012AC:D2F0 01 00000000:00000000 02:000A7D3B 00000000     0        0 21300 2 0000000000000000 20 4 31 10 -1
`;

  it('counts established connections to local port 22 only (not listeners, outgoing or closing ones)', () => {
    expect(countEstablished(tcp, 22)).toBe(1);
    expect(countEstablished(tcp6, 22)).toBe(1);
    expect(countEstablished('', 22)).toBe(0);
  });
});
