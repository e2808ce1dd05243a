import {invalidInput} from './errors.js';

const UNITS: Record<string, number> = {b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4};

/**
 * Memory sizes as `docker run --memory` writes them (`512m`, `16g`, `1.5g`, plain bytes). The
 * `bytes` package on npm wants `16gb`; sysadmins type docker's form, so this small parser follows
 * docker's go-units RAMInBytes (binary units, optional trailing `b`).
 */
export function parseByteSize(input: string | number, what = 'size'): number {
  const text = String(input).trim().toLowerCase();
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt])?b?$/.exec(text);
  const value = match ? Math.floor(Number(match[1]) * (UNITS[match[2] ?? 'b'] ?? 1)) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0 || !Number.isSafeInteger(value)) {
    throw invalidInput(`invalid ${what} ${JSON.stringify(String(input))}: use e.g. 512m or 16g`);
  }
  return value;
}

/** `12.3 GiB`, `50 MiB`, `812 KiB`: binary units, as `df -h` and docker print them. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 || value >= 100 || Number.isInteger(value) ? value.toFixed(0) : value.toFixed(1);
  return `${text} ${units[unit]}`;
}
