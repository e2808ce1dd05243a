// Rewrites README.md's configuration table from the settings table (src/config/config.ts), through the
// built dist/ (npm run docs). test/unit/readme-settings.test.ts fails when README has drifted.
import {readFile, writeFile} from 'node:fs/promises';

import {withSettingsTable} from '../dist/src/config/settings-doc.js';

const readme = new globalThis.URL('../README.md', import.meta.url);
const before = await readFile(readme, 'utf8');
const after = withSettingsTable(before);
await writeFile(readme, after);
console.log(
  before === after ? 'README.md: settings table already current' : 'README.md: settings table rewritten',
);
