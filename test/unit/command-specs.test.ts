import {readdirSync} from 'node:fs';
import path from 'node:path';

import {afterEach, describe, expect, it, vi} from 'vitest';

import {ROOT} from '../helpers/constants.js';

/**
 * Each command's spec sits beside its handler (commands/session/create.spec.ts next to create.ts)
 * and is data: the fast door loads the whole table on every run (cli/fast-door.ts), so a spec that
 * imported its handler would load every command's code into every command (docs/development/contributing.md "How the CLI is built"). Each handler is replaced here by a module that records being loaded.
 */
const COMMANDS = path.join(ROOT, 'commands');
const specFiles = (readdirSync(COMMANDS, {recursive: true}) as string[])
  .filter((file) => file.endsWith('.spec.ts'))
  .map((file) => path.join(COMMANDS, file));
const handlerOf = (spec: string) => spec.replace(/\.spec\.ts$/, '.ts');

const loaded: string[] = [];
function watchHandlers(): void {
  for (const spec of specFiles) {
    const handler = handlerOf(spec);
    vi.doMock(handler, () => {
      loaded.push(handler);
      return {default: handler};
    });
  }
}

afterEach(() => {
  loaded.length = 0;
  vi.resetModules();
  for (const spec of specFiles) vi.doUnmock(handlerOf(spec));
});

describe('the command table', () => {
  it('lists every spec in commands/, and loading it loads no handler', async () => {
    watchHandlers();
    const {COMMAND_TABLE} = await import('../../cli/registry.js');
    expect(loaded).toEqual([]);
    expect(specFiles.length).toBeGreaterThan(30);
    expect(COMMAND_TABLE).toHaveLength(specFiles.length);
    expect(new Set(COMMAND_TABLE.map((spec) => spec.id)).size).toBe(specFiles.length);
  });

  it("loads each command's handler from the file beside its spec, and only that one", async () => {
    watchHandlers();
    for (const file of specFiles) {
      const {default: spec} = (await import(file)) as {default: {id: string; load: () => Promise<unknown>}};
      expect(loaded, spec.id).toEqual([]);
      expect(await spec.load(), spec.id).toMatchObject({default: handlerOf(file)});
      expect(loaded, spec.id).toEqual([handlerOf(file)]);
      loaded.length = 0;
    }
  });
});
