import {defaultText, envName, SETTINGS, type SettingName} from './config.js';
import {GROUP_LIMIT_NAMES} from './user-settings.js';

/**
 * The settings reference's table (docs/reference/settings.md, npm run docs), one row per setting in
 * the settings table's order; a setting a group or user may set for itself is marked.
 */
export function settingsTable(): string {
  const limits = new Set<string>(GROUP_LIMIT_NAMES);
  const rows = (Object.keys(SETTINGS) as SettingName[]).map((name) => {
    const {description, flag, flagAliases} = SETTINGS[name];
    const flags = flag ? [flag, ...(flagAliases ?? [])].map((item) => `\`--${item}\``).join(', ') : '';
    const own = limits.has(name) ? 'yes' : '';
    return `| \`${name}\` | \`${envName(name)}\` | ${flags} | ${defaultText(name).replace(/\|/g, '\\|')} | ${own} | ${description.replace(/\|/g, '\\|')} |`;
  });
  return [
    '| setting | environment | flag | default | per group/user | what it does |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
