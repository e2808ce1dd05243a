import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {REFERENCE_DIR, REFERENCE_PAGES} from '../../cli/reference/reference-pages.js';
import {COMMAND_TABLE} from '../../cli/registry.js';
import {SETTINGS} from '../../src/config/config.js';
import {settingsTable} from '../../src/config/settings-doc.js';
import {ERROR_KINDS} from '../../src/core/errors.js';
import {STATE_TABLES} from '../../src/state/state-fields.js';
import {fakeWorld} from '../fakes/world.js';
import {ROOT} from '../helpers/constants.js';

/** docs/reference/ is made by npm run docs from the code's tables (cli/reference/); these fail when it drifts. */
const onDisk = (name: string) => readFileSync(path.join(ROOT, REFERENCE_DIR, name), 'utf8');

describe('docs/reference', () => {
  it.each(Object.keys(REFERENCE_PAGES))('%s is the one made from the code (run npm run docs)', (name) => {
    expect(onDisk(name)).toBe(REFERENCE_PAGES[name]!());
  });

  it('holds the generated pages and nothing else', () => {
    expect(readdirSync(path.join(ROOT, REFERENCE_DIR)).sort()).toEqual(Object.keys(REFERENCE_PAGES).sort());
  });

  it('settings: a row with the environment variable, flag and default of every setting, limits marked', () => {
    const table = settingsTable();
    for (const name of Object.keys(SETTINGS)) expect(table).toContain(`| \`${name}\` |`);
    expect(table).toContain(
      '| `stateFile` | `SANDMAN_STATE_FILE` | `--state`, `--db` | /var/lib/sandman/state.json |  |',
    );
    expect(table).toContain("| `sshHost` | `SANDMAN_SSH_HOST` | `--ssh-host` | this host's FQDN |  |");
    expect(table).toMatch(/\| `userMaxKeep` \| `SANDMAN_USER_MAX_KEEP` \| [^|]*\| [^|]*\| yes \|/);
  });

  it('commands: every command, its flags and its examples', () => {
    const page = onDisk('commands.md');
    for (const spec of COMMAND_TABLE) {
      expect(page).toContain(`## sandman ${spec.id.replaceAll(':', ' ')}\n`);
      for (const flag of Object.keys(spec.flags ?? {})) expect(page).toContain(`\`--${flag}`);
    }
    expect(page).toContain('    sandman session extend alice --ttl 30m');
    expect(page).toContain('sandman keep DURATION');
  });

  it('exit codes: every kind with its code, and the --json error shape', () => {
    const page = onDisk('exit-codes.md');
    for (const [kind, code] of Object.entries(ERROR_KINDS))
      expect(page).toContain(`| ${code} | \`${kind}\` |`);
    expect(page).toContain('"exit_code": 3');
  });

  it('api: every path and method of the OpenAPI document', () => {
    const page = onDisk('api.md');
    expect(page).toContain('### POST /sessions\n');
    expect(page).toContain('### GET /jobs/{id}\n');
    expect(page).toContain('| `ttl_minutes` | integer | at least 1 |');
  });

  it('state file: the tables name every field a real state file holds (sessions, users, queue, jobs)', async () => {
    const world = fakeWorld();
    await world.users.add('alice', {gpu: {kind: 'none'}, ttl: '2h', limits: {userMaxKeep: '1h'}});
    await world.sessions.create({user: 'alice', gpu: {kind: 'none'}, password: false, env: [], wait: true});
    await world.sessions.jobs.submit({user: 'alice', gpu: {kind: 'none'}, command: ['true'], env: []});
    const state = await world.store.read();
    const fields = Object.fromEntries(STATE_TABLES.map(({name, fields}) => [name, Object.keys(fields)]));
    const seen = (record: object | undefined) => Object.keys(record ?? {});
    expect(fields.StateData).toEqual(expect.arrayContaining(seen(state)));
    expect(state.sessions).toHaveLength(1);
    expect(fields.SessionRecord).toEqual(expect.arrayContaining(seen(state.sessions[0])));
    expect(fields.UserRecord).toEqual(expect.arrayContaining(seen(state.users.alice)));
    expect(state.jobs).toHaveLength(1);
    expect(fields.JobRecord).toEqual(expect.arrayContaining(seen(state.jobs?.[0])));
    const page = onDisk('state-file.md');
    for (const {name, fields: table} of STATE_TABLES) {
      expect(page).toContain(`## ${name}\n`);
      for (const field of Object.keys(table)) expect(page).toContain(`| \`${field}\` |`);
    }
  });
});
