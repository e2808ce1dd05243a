/** The bits of Markdown the reference pages are made of (docs/reference/, npm run docs). Pure. */

/** One table cell: pipes escaped, line breaks folded (a cell is one line). */
export function cell(text: string | number | boolean | undefined | null): string {
  if (text === undefined || text === null || text === '') return '';
  return String(text)
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|');
}

export const code = (text: string) => (text === '' ? '' : `\`${text}\``);

/** A table with the given header; rows of cells (escaped here). */
export function table(header: string[], rows: (string | number | boolean | undefined | null)[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The first lines of every page: where it comes from, and that it is made, not written. */
export function generatedNotice(source: string): string {
  return `<!-- Made by \`npm run docs\` from ${source}; edit that and run npm run docs, not this file (test/unit/reference-docs.test.ts checks it). -->`;
}

/** A page: the title, the notice, then its parts, separated by blank lines, ending in one newline. */
export function page(title: string, source: string, parts: string[]): string {
  return [`# ${title}`, generatedNotice(source), ...parts].join('\n\n') + '\n';
}
