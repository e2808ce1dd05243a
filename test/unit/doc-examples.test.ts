import {readFile} from 'node:fs/promises';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {ROOT} from '../helpers/constants.js';
import {docFiles, markedExample} from '../helpers/doc-examples.js';

/** The examples the e2e tests run are found in README.md and docs/**, wherever a guide puts them. */
describe('marked examples in the docs', () => {
  it('each one has a block, and one marked in several files reads the same in each', async () => {
    const names = new Set<string>();
    for (const file of await docFiles()) {
      const text = await readFile(path.join(ROOT, file), 'utf8');
      for (const match of text.matchAll(/^<!-- readme-example: (\S+) -->$/gm)) names.add(match[1]!);
    }
    expect([...names]).toEqual(
      expect.arrayContaining([
        'setup',
        'in-session',
        'in-session-jobs',
        'first-session',
        'gateway-login',
        'restore-state',
        'gateway-login-mig',
      ]),
    );
    for (const name of names) expect((await markedExample(name)).lines.length, name).toBeGreaterThan(0);
  });

  it('finds an example in a docs/ file, and says which file lacks one', async () => {
    const example = await markedExample('in-session', 'docs/user/inside-your-session.md');
    expect(example.lines[0]).toBe('$ sandman status');
    await expect(markedExample('in-session', 'docs/user/jobs.md')).rejects.toThrow(
      'no example marked in-session in docs/user/jobs.md',
    );
  });
});
