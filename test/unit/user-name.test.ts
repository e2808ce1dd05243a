import {describe, expect, it} from 'vitest';

import {validateUserName} from '../../src/users/user-name.js';

describe('validateUserName', () => {
  it.each(['alice', '_svc', 'a', 'bob-2', 'x_y', 'a'.repeat(32)])('accepts %j', (name) => {
    expect(validateUserName(name)).toBe(name);
  });

  it.each([
    'Alice',
    '1alice',
    '-alice',
    'al ice',
    '../etc',
    'a/b',
    'alice;rm',
    'a'.repeat(33),
    '',
    'аlice', // Cyrillic "а"
    'alice\n',
  ])('refuses %j with exit 2', (name) => {
    expect(() => validateUserName(name)).toThrow(expect.objectContaining({exitCode: 2}));
  });

  it.each(['root', 'daemon', 'nobody', 'sshd', 'www-data', 'systemd-network', 'systemd-anything'])(
    'refuses the reserved name %j',
    (name) => {
      expect(() => validateUserName(name)).toThrow(/reserved/);
    },
  );
});
