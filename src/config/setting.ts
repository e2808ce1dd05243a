import path from 'node:path';

import {parseByteSize} from '../core/byte-size.js';
import {parseDuration} from '../core/duration.js';
import {invalidInput} from '../core/errors.js';

/** Checks a raw value (flag, environment, config file or default) and makes the setting's value. */
export type Parser<T> = (raw: unknown, where: string) => T;

/**
 * One setting: its parser's result is the setting's type in `Config`, and a setting with a
 * `default` is always set (src/config/config.ts derives both).
 */
export interface SettingDefinition<T> {
  parse: Parser<T>;
  default?: unknown;
  /** What the setting does: flag help and README's configuration table are made from it. */
  description: string;
  /** The default in words, where there is no default value (computed, or off). */
  defaultText?: string;
  /**
   * The command-line flag that sets it (without `--`): `stateFile`'s is global, the others belong
   * to `session create` (docs/reference/settings.md).
   */
  flag?: string;
  flagAliases?: string[];
}

/** A group of settings (one concern's): each file under src/config/ declares some. */
export type Settings = Record<string, SettingDefinition<unknown>>;

export const fail = (where: string, message: string): never => {
  throw invalidInput(`${where}: ${message}`);
};

export const text: Parser<string> = (raw, where) => {
  if (typeof raw !== 'string' && typeof raw !== 'number') fail(where, 'must be a string');
  const value = String(raw);
  if (value.trim() === '' || /[\0\n\r]/.test(value)) fail(where, 'must be a non-empty single line');
  return value;
};
export const filePath: Parser<string> = (raw, where) => path.resolve(text(raw, where));
export const integerIn =
  (min: number, max: number): Parser<number> =>
  (raw, where) => {
    const value =
      typeof raw === 'number' ? raw : /^\s*-?\d+\s*$/.test(String(raw)) ? Number(raw) : Number.NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      fail(where, `must be a whole number between ${min} and ${max}`);
    }
    return value;
  };
export const duration: Parser<number> = (raw, where) => {
  try {
    return parseDuration(raw as string, 'duration');
  } catch (error) {
    return fail(where, (error as Error).message);
  }
};
export const port = integerIn(1024, 65535);
export const byteSize: Parser<number> = (raw, where) => {
  try {
    return parseByteSize(raw as string, 'size');
  } catch (error) {
    return fail(where, (error as Error).message);
  }
};
/** A duration that may be zero (`0`, `0s`: off). */
export const durationOrZero: Parser<number> = (raw, where) =>
  /^\s*0+(\.0+)?[a-z]*\s*$/i.test(String(raw)) ? 0 : duration(raw, where);

/** One of a few words (`raw` itself when it is one), else `message`. */
export const oneOf =
  <const Word extends string>(words: readonly Word[], message: string): Parser<Word> =>
  (raw, where) =>
    words.find((word) => word === raw) ?? fail(where, message);

/** A comma-separated list (or a JSON array), each item trimmed, empty items dropped. */
export const listItems = (raw: unknown): string[] =>
  (Array.isArray(raw) ? raw.map(String) : String(raw).split(',')).map((item) => item.trim()).filter(Boolean);

/**
 * `5`, `2.5`, `5 %`: a percentage from 0 to `max` (idleCpuThreshold's CPU percent may pass 100:
 * several CPUs), refused with `message`.
 */
export function percentUpTo(max: number, message: string): Parser<number> {
  return (raw, where) => {
    const value =
      typeof raw === 'number'
        ? raw
        : /^\s*\d+(\.\d+)?\s*%?\s*$/.test(String(raw))
          ? parseFloat(String(raw))
          : NaN;
    if (!Number.isFinite(value) || value < 0 || value > max) fail(where, message);
    return value;
  };
}
