/** docs/reference/settings.md, made from the settings table (src/config/config.ts's SETTINGS). */
import {settingsTable} from '../../src/config/settings-doc.js';
import {page} from './markdown.js';

export function settingsPage(): string {
  return page('Settings', "src/config/config.ts's SETTINGS (and src/config/*-settings.ts)", [
    'Each setting comes from, first to last: its flag on the command line, its environment variable, the config file (`SANDMAN_CONFIG`, default /etc/sandman/config.json, written by `sandman setup`), the default. A setting marked "per group/user" may also be set for a group (in the config file\'s `groups`) or a user (`sandman user set`); hers overrides her group\'s, which overrides the setting.',
    settingsTable(),
  ]);
}
