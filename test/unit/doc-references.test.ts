import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {ROOT} from '../helpers/constants.js';

/**
 * Code comments and messages cite the guide that explains them (issue 42): `docs/admin/gpus.md`,
 * optionally with a heading, `docs/admin/reaper.md "Host restarts and reboots"`. A citation whose
 * file or heading is gone sends the reader nowhere, and README.md no longer has sections to cite.
 */
const SCANNED = ['src', 'cli', 'commands', 'web', 'bench', 'images'];
const SOURCE = /\.(ts|mts|js|mjs|cjs|html|css|sh)$|^Dockerfile$/;

function sourceFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!existsSync(full)) return [];
  return readdirSync(full).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sourceFiles(relative);
    return SOURCE.test(name) ? [relative] : [];
  });
}

/** A heading's text as a reader sees it: no `#`s, no backticks. */
function headings(file: string): string[] {
  return readFileSync(path.join(ROOT, file), 'utf8')
    .split('\n')
    .filter((line) => /^#{1,6} /.test(line))
    .map((line) => line.replace(/^#+ /, '').replaceAll('`', '').trim());
}

/** A quoted heading names one in full, or its start before a colon ("The reaper" for "The reaper: expiry, …"). */
const namesHeading = (all: string[], quoted: string) =>
  all.some((heading) => heading === quoted || heading.startsWith(`${quoted}:`));

interface Reference {
  where: string;
  file: string;
  heading?: string;
}

/** Every `docs/….md` reference in a file's text, with the quoted heading that follows it. */
export function docReferences(where: string, text: string): Reference[] {
  return [...text.matchAll(/\bdocs\/[\w./-]+?\.md(?: "([^"\n]+)")?/g)].map((match) => ({
    where,
    file: match[0].split(' ')[0]!,
    heading: match[1],
  }));
}

/** Citations of README sections, which moved to docs/ (one may be wrapped over two comment lines). */
export const readmeCitations = (text: string) => [...text.matchAll(/README\s*(?:\*|\/\/|#)?\s*\\?"/g)].length;

describe('references to the docs in the code', () => {
  const files = SCANNED.flatMap(sourceFiles);
  const texts = files.map((file) => ({file, text: readFileSync(path.join(ROOT, file), 'utf8')}));

  it('scans the code', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(texts.flatMap(({file, text}) => docReferences(file, text)).length).toBeGreaterThan(100);
  });

  it('name files that exist, and headings that exist in them', () => {
    const broken: string[] = [];
    for (const {file, text} of texts)
      for (const reference of docReferences(file, text)) {
        if (!existsSync(path.join(ROOT, reference.file)))
          broken.push(`${file}: ${reference.file} does not exist`);
        else if (
          reference.heading !== undefined &&
          !namesHeading(headings(reference.file), reference.heading)
        )
          broken.push(`${file}: ${reference.file} has no heading "${reference.heading}"`);
      }
    expect(broken).toEqual([]);
  });

  it('cite no README section (they moved to docs/)', () => {
    const left = texts.filter(({text}) => readmeCitations(text) > 0).map(({file}) => file);
    expect(left).toEqual([]);
  });

  it('finds a missing file, a missing heading and a README citation', () => {
    const [file, heading] = docReferences(
      'x.ts',
      '// (docs/admin/nowhere.md) and (docs/admin/gpus.md "No such part")',
    );
    expect(existsSync(path.join(ROOT, file!.file))).toBe(false);
    expect(namesHeading(headings(heading!.file), heading!.heading!)).toBe(false);
    expect(namesHeading(headings('docs/admin/reaper.md'), 'The reaper')).toBe(true);
    expect(readmeCitations('/* see README\n * "Disk quotas" */')).toBe(1);
    expect(readmeCitations('say "see README \\"For researchers\\""')).toBe(1);
  });
});
