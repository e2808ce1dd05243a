import {describe, expect, it} from 'vitest';

import {inApiWords} from '../../cli/api-wording.js';
import {formatHours} from '../../commands/usage.js';
import {resolveSession} from '../../src/session/resolve.js';
import {validateUserName} from '../../src/users/user-name.js';
import {parseDuration} from '../../src/core/duration.js';

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('did not throw');
};

describe('API error messages', () => {
  it('name the API fields and endpoints, not the CLI flags and commands', () => {
    expect(inApiWords(messageOf(() => resolveSession([], 'ghost')))).toBe(
      'no session with ID or user "ghost" (see GET /sessions)',
    );
    expect(inApiWords(messageOf(() => validateUserName('Bad')))).toMatch(
      /^invalid user_id "Bad": must match/,
    );
    expect(inApiWords(messageOf(() => parseDuration('0', 'TTL')))).toBe(
      'invalid ttl_minutes "0": must be greater than zero',
    );
    expect(
      inApiWords('no GPU on this host is in MIG mode, so there is no 3g.20gb profile; use --gpu or --no-gpu'),
    ).toBe('no GPU on this host is in MIG mode, so there is no 3g.20gb profile; use gpu or "gpu": "none"');
    expect(
      inApiWords('GPU 0 (GPU-1) is in MIG mode: ask for a slice with --profile or --mig-instance instead'),
    ).toBe('GPU 0 (GPU-1) is in MIG mode: ask for a slice with mig_profile or mig_instance_uuid instead');
    expect(inApiWords('remove it with "sandman session rm 5302066654b2" or extend it')).toBe(
      'remove it with DELETE /sessions/5302066654b2 or extend it',
    );
  });
});

describe('usage hours', () => {
  it('never shows a row as 0.0 beside a total that is not', () => {
    expect([0.049, 0.049, 0.098].map(formatHours)).toEqual(['0.05', '0.05', '0.10']);
    expect([0, 0.001, 12.345, 9.99].map(formatHours)).toEqual(['0', '<0.01', '12.3', '9.99']);
  });
});
