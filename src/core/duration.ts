import ms from 'ms';

import {invalidInput} from './errors.js';

const MINUTE = 60_000;

/**
 * Parses a TTL such as `90m`, `2h`, `1d` or `1h30m`. A bare integer means minutes: the original
 * HTTP API took `ttl_minutes`, and scripts written against it pass plain numbers.
 * Returns milliseconds; anything zero, negative, non-finite or unparsable is an input error.
 */
export function parseDuration(input: string | number, what = 'duration'): number {
  const text = String(input).trim();
  let value: number | undefined;
  if (/^\d+$/.test(text)) {
    value = Number(text) * MINUTE;
  } else if (/^(\d+(\.\d+)?[a-z]+)+$/i.test(text)) {
    // ms handles one number+unit pair; a compound like 1h30m is summed pair by pair.
    const parts = text.match(/\d+(?:\.\d+)?[a-z]+/gi) ?? [];
    value = 0;
    for (const part of parts) {
      const partValue = ms(part as ms.StringValue) as number | undefined;
      if (partValue === undefined || Number.isNaN(partValue)) {
        value = undefined;
        break;
      }
      value += partValue;
    }
  }
  if (value === undefined || !Number.isFinite(value)) {
    throw invalidInput(
      `invalid ${what} ${JSON.stringify(String(input))}: use e.g. 90m, 2h, 1d or minutes as a number`,
    );
  }
  if (value <= 0) {
    throw invalidInput(`invalid ${what} ${JSON.stringify(String(input))}: must be greater than zero`);
  }
  return value;
}

/** Compact human form used in tables and messages: `1d 2h`, `1h 30m`, `45m`, `30s`. */
export function formatDuration(milliseconds: number): string {
  const negative = milliseconds < 0;
  let rest = Math.round(Math.abs(milliseconds) / 1000);
  const days = Math.floor(rest / 86_400);
  rest -= days * 86_400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const seconds = rest - minutes * 60;
  const parts: string[] = [];
  if (days) parts.push(`${days}d`);
  if (hours) parts.push(`${hours}h`);
  if (minutes && days === 0) parts.push(`${minutes}m`);
  if (parts.length === 0) parts.push(`${seconds}s`);
  return (negative ? '-' : '') + parts.slice(0, 2).join(' ');
}
