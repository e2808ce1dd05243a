// Writes the generated reference (docs/reference/*.md) from the code's own tables, through the built
// dist/ (npm run docs). test/unit/reference-docs.test.ts fails when a page has drifted.
import {mkdir, readFile, writeFile} from 'node:fs/promises';

import {REFERENCE_DIR, REFERENCE_PAGES} from '../dist/cli/reference/reference-pages.js';

const dir = new globalThis.URL(`../${REFERENCE_DIR}/`, import.meta.url);
await mkdir(dir, {recursive: true});
for (const [name, make] of Object.entries(REFERENCE_PAGES)) {
  const file = new globalThis.URL(name, dir);
  const before = await readFile(file, 'utf8').catch(() => undefined);
  const after = make();
  if (before !== after) await writeFile(file, after);
  console.log(`${REFERENCE_DIR}/${name}: ${before === after ? 'already current' : 'written'}`);
}
