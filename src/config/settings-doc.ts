import {defaultText, envName, SETTINGS, type SettingName} from './config.js';

/** The markers around README's configuration table, which is made from the settings table. */
export const README_MARKERS = {
  start: '<!-- settings-table:start (made by npm run docs; edit src/config/config.ts) -->',
  end: '<!-- settings-table:end -->',
};

/** README's configuration table (Markdown), one row per setting, in the settings table's order. */
export function settingsTable(): string {
  const rows = (Object.keys(SETTINGS) as SettingName[]).map((name) => {
    const {description, flag, flagAliases} = SETTINGS[name];
    const flags = flag ? [flag, ...(flagAliases ?? [])].map((item) => `\`--${item}\``).join(', ') : '';
    return `| \`${name}\` | \`${envName(name)}\` | ${flags} | ${defaultText(name).replace(/\|/g, '\\|')} | ${description} |`;
  });
  return [
    '| setting | environment | flag | default | what it does |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/** README's text with the table between the markers replaced by the current one. */
export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(README_MARKERS.start);
  const end = readme.indexOf(README_MARKERS.end);
  if (start < 0 || end < start) throw new Error('README.md has no settings-table markers');
  // Prettier would realign the columns: the table stays as it is made.
  const block = ['<!-- prettier-ignore-start -->', settingsTable(), '<!-- prettier-ignore-end -->'].join(
    '\n\n',
  );
  return readme.slice(0, start + README_MARKERS.start.length) + '\n' + block + '\n' + readme.slice(end);
}
