import {describe, expect, it} from 'vitest';

import {resolveSession} from '../../src/session/resolve.js';
import type {SessionRecord} from '../../src/state/state-data.js';

const sessions = [
  {id: '7f3a9c2e1b04', user: 'alice'},
  {id: '7f3b00000000', user: 'bob'},
  {id: 'c0ffee123456', user: 'carol'},
] as SessionRecord[];

describe('resolveSession', () => {
  it('finds by full ID, user name and unique prefix', () => {
    expect(resolveSession(sessions, '7f3a9c2e1b04').user).toBe('alice');
    expect(resolveSession(sessions, 'bob').id).toBe('7f3b00000000');
    expect(resolveSession(sessions, 'c0f').user).toBe('carol');
    expect(resolveSession(sessions, '7f3a').user).toBe('alice');
  });

  it('refuses an ambiguous prefix with exit 2, listing the candidates', () => {
    expect(() => resolveSession(sessions, '7f3')).toThrow(
      expect.objectContaining({exitCode: 2, message: expect.stringMatching(/7f3a9c2e1b04, 7f3b00000000/)}),
    );
  });

  it('answers exit 3 for nothing found', () => {
    expect(() => resolveSession(sessions, 'dave')).toThrow(expect.objectContaining({exitCode: 3}));
    expect(() => resolveSession(sessions, 'ffff')).toThrow(expect.objectContaining({exitCode: 3}));
  });
});
