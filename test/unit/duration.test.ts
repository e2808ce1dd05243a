import {describe, expect, it} from 'vitest';

import {formatDuration, parseDuration} from '../../src/core/duration.js';
import {SandmanError} from '../../src/core/errors.js';

describe('parseDuration', () => {
  it.each([
    ['90m', 90 * 60_000],
    ['2h', 2 * 3_600_000],
    ['1d', 86_400_000],
    ['45', 45 * 60_000],
    ['1h30m', 90 * 60_000],
    ['30s', 30_000],
    [' 2h ', 2 * 3_600_000],
  ])('reads %j', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    '0',
    '0m',
    '-5',
    '-1h',
    '',
    'abc',
    '2 hours later',
    '1e3',
    '1.5.5h',
    '5x',
    'NaN',
    'Infinity',
    '9'.repeat(400),
  ])('refuses %j with exit 2', (input) => {
    let error: unknown;
    try {
      parseDuration(input, 'TTL');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SandmanError);
    expect((error as SandmanError).exitCode).toBe(2);
    expect((error as SandmanError).message).toContain('TTL');
  });
});

describe('formatDuration', () => {
  it.each([
    [90 * 60_000, '1h 30m'],
    [86_400_000 + 2 * 3_600_000, '1d 2h'],
    [45 * 60_000, '45m'],
    [30_000, '30s'],
    [-5 * 60_000, '-5m'],
  ])('formats %d as %j', (value, expected) => {
    expect(formatDuration(value)).toBe(expected);
  });
});
