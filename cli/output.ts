import type {ChalkInstance} from 'chalk';

import {formatDuration} from '../src/core/duration.js';
import type {SetupStep} from '../src/setup/setup-host.js';

/** What a command prints through: stdout lines for people, or one JSON document for scripts. */
export interface CommandOutput {
  json: boolean;
  colour: boolean;
  log: (line: string) => void;
}

/** Plain JSON, never colourised: scripts parse it. */
export function writeJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A borderless table in the style of `docker ps` (cli-table3 loads only when a table is printed). */
export async function renderTable(
  head: string[],
  rows: Array<Array<string | number>>,
  chalk?: ChalkInstance,
): Promise<string> {
  const {default: Table} = await import('cli-table3');
  const table = new Table({
    head: head.map((title) => (chalk ? chalk.bold(title) : title)),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '   ',
    },
    style: {head: [], border: [], 'padding-left': 0, 'padding-right': 0},
  });
  table.push(...rows.map((row) => row.map(String)));
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}

/** `2026-11-22 14:00 UTC` */
export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

/** `in 2h`, `3m ago` */
export function relativeTime(iso: string, now = Date.now()): string {
  const delta = Date.parse(iso) - now;
  return delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/** The STEP/STATUS/DETAIL table of `setup` and `node setup`. */
export async function renderSteps(steps: SetupStep[], colour: boolean): Promise<string> {
  return renderTable(
    ['STEP', 'STATUS', 'DETAIL'],
    steps.map((step) => [step.step, step.status, step.detail]),
    await loadChalk(colour),
  );
}

export async function loadChalk(enabled: boolean): Promise<ChalkInstance | undefined> {
  if (!enabled) return undefined;
  return (await import('chalk')).default;
}
