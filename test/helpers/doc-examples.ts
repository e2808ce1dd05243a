import {readdir, readFile} from 'node:fs/promises';
import path from 'node:path';

import {expect} from 'vitest';

import {ROOT} from './constants.js';

/**
 * The examples the docs show, read where a reader sees them: a block marked
 * `<!-- readme-example: NAME -->` in README.md or any docs/**\/*.md (issue 42: the examples moved into
 * guides keep their markers; a test names the example, not the file). The block is the indented
 * code block after the marker, without its indent; blank lines inside it stay as ''.
 */
export interface MarkedExample {
  /** Where it was found, relative to the repository root. */
  file: string;
  lines: string[];
}

/** README.md and every Markdown file under docs/, relative to the root. */
export async function docFiles(): Promise<string[]> {
  const docs = await readdir(path.join(ROOT, 'docs'), {recursive: true});
  return [
    'README.md',
    ...docs
      .filter((name) => name.endsWith('.md'))
      .map((name) => path.join('docs', name))
      .sort(),
  ];
}

function blockAfter(lines: string[], marker: number): string[] {
  const block: string[] = [];
  for (const line of lines.slice(marker + 1)) {
    if (line.trim() === '') {
      if (block.length > 0) block.push('');
      continue;
    }
    if (!line.startsWith('    ')) break;
    block.push(line.slice(4));
  }
  while (block.at(-1) === '') block.pop();
  return block;
}

/**
 * The example marked NAME (in `file` only, when given). One marked in several files must read the
 * same in each (a copy that drifted would be untested); none at all is an error.
 */
export async function markedExample(name: string, file?: string): Promise<MarkedExample> {
  const found: MarkedExample[] = [];
  for (const candidate of file ? [file] : await docFiles()) {
    const lines = (await readFile(path.join(ROOT, candidate), 'utf8')).split('\n');
    lines.forEach((line, index) => {
      if (line.trim() === `<!-- readme-example: ${name} -->`)
        found.push({file: candidate, lines: blockAfter(lines, index)});
    });
  }
  if (found.length === 0) throw new Error(`no example marked ${name} in ${file ?? 'README.md or docs/'}`);
  const [first, ...others] = found;
  const differing = others.find((other) => other.lines.join('\n') !== first!.lines.join('\n'));
  if (differing) throw new Error(`the example ${name} differs between ${first!.file} and ${differing.file}`);
  return first!;
}

/**
 * Runs an example as written: each `$ COMMAND` line through `run` (it must succeed), each other line
 * looked for in the output of the command before it. The example's IDs (12 hex digits), numbers and
 * `…` stand for this run's own; runs of spaces count as one.
 */
export async function runExample(
  lines: readonly string[],
  run: (command: string) => Promise<{exitCode?: number; stdout: string; stderr: string}>,
): Promise<void> {
  let output = '';
  for (const line of lines) {
    if (line.startsWith('$ ')) {
      const ran = await run(line.slice(2));
      expect(ran.exitCode, `${line}: ${ran.stderr}`).toBe(0);
      output = ran.stdout.replace(/ +/g, ' ');
      continue;
    }
    const pattern = line
      .replace(/ +/g, ' ')
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/[0-9a-f]{12}/g, 'HEXID')
      .replace(/\d+/g, '\\d+')
      .replace(/HEXID/g, '[0-9a-f]{12}')
      .replace(/…/g, '.*');
    expect(output, line).toMatch(new RegExp(`^${pattern}$`, 'm'));
  }
}
