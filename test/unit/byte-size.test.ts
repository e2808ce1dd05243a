import {describe, expect, it} from 'vitest';

import {parseByteSize} from '../../src/core/byte-size.js';

describe('parseByteSize', () => {
  it.each([
    ['16g', 16 * 1024 ** 3],
    ['512m', 512 * 1024 ** 2],
    ['1.5g', 1.5 * 1024 ** 3],
    ['2048', 2048],
    ['64kb', 64 * 1024],
  ])('reads %j', (input, expected) => {
    expect(parseByteSize(input)).toBe(expected);
  });

  it.each(['', '0', '-1g', '16q', 'lots', '1e9'])('refuses %j', (input) => {
    expect(() => parseByteSize(input, 'memory')).toThrow(expect.objectContaining({exitCode: 2}));
  });
});
