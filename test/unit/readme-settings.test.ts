import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {SETTINGS} from '../../src/config/config.js';
import {settingsTable, withSettingsTable} from '../../src/config/settings-doc.js';
import {ROOT} from '../helpers/constants.js';

describe("README's configuration table", () => {
  it('is the one made from the settings table (run npm run docs after changing src/config/config.ts)', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    expect(withSettingsTable(readme)).toBe(readme);
  });

  it('has a row with the environment variable, flag and default of every setting', () => {
    const table = settingsTable();
    for (const name of Object.keys(SETTINGS)) expect(table).toContain(`| \`${name}\` |`);
    expect(table).toContain(
      '| `stateFile` | `SANDMAN_STATE_FILE` | `--state`, `--db` | /var/lib/sandman/state.json |',
    );
    expect(table).toContain("| `sshHost` | `SANDMAN_SSH_HOST` | `--ssh-host` | this host's FQDN |");
  });
});
