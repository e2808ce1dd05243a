import type {GpuStatus} from './gpu-types.js';

/** The fields of the `--query-gpu` command sandman runs (docs/admin/gpus.md), in order. */
export const QUERY_GPU_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'mig.mode.current',
] as const;

/** The reaper's utilisation sample (docs/admin/notifications-and-idleness.md "GPU idleness"). */
export const UTILIZATION_FIELDS = ['index', 'uuid', 'utilization.gpu'] as const;

export function queryGpuArgs(fields: readonly string[]): string[] {
  return [`--query-gpu=${fields.join(',')}`, '--format=csv,noheader,nounits'];
}

/** `[N/A]`, `[Not Supported]`, `N/A`, `[Requested functionality has been deprecated]`, empty: no value. */
function present(value: string | undefined): string | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (text === '' || text === 'N/A' || /^\[.*\]$/.test(text)) return null;
  return text;
}

function numberOf(value: string | undefined): number | null {
  const text = present(value);
  if (text === null) return null;
  // With `nounits` values are bare; without, they carry the unit ("59 MiB", "71.15 W", "100 %").
  const match = /^(-?\d+(?:\.\d+)?)(?:\s*(?:MiB|W|%|C))?$/.exec(text);
  return match ? Number(match[1]) : null;
}

function splitCsvLine(line: string): string[] {
  // nvidia-smi never quotes; values are separated by ", ".
  return line.split(',').map((cell) => cell.trim());
}

const HEADER_CELL = /^[a-z][a-zA-Z0-9_.]*( \[[^\]]+\])?$/;

/**
 * Parses `--query-gpu` CSV output. With a header (any field list, units in brackets) the columns
 * are found by name; without one (`noheader`), they are `fields` in order (by default the fields
 * sandman asks for).
 */
export function parseQueryGpu(text: string, fields: readonly string[] = QUERY_GPU_FIELDS): GpuStatus[] {
  const lines = text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
  if (lines.length === 0) return [];
  const firstCells = splitCsvLine(lines[0]!);
  const hasHeader = firstCells.every((cell) => HEADER_CELL.test(cell));
  const columns = hasHeader ? firstCells.map((cell) => cell.replace(/\s*\[.*\]$/, '')) : [...fields];
  const rows = hasHeader ? lines.slice(1) : lines;
  return rows.map((line, position) => {
    const cells = splitCsvLine(line);
    const field = (name: string): string | undefined => {
      const at = columns.indexOf(name);
      return at >= 0 ? cells[at] : undefined;
    };
    const index = numberOf(field('index'));
    return {
      index: index ?? position,
      uuid: present(field('uuid')),
      name: present(field('name')),
      memoryTotalMiB: numberOf(field('memory.total')),
      memoryUsedMiB: numberOf(field('memory.used')),
      memoryFreeMiB: numberOf(field('memory.free')),
      utilizationPercent: numberOf(field('utilization.gpu')),
      temperatureC: numberOf(field('temperature.gpu')),
      powerDrawW: numberOf(field('power.draw')),
      powerLimitW: numberOf(field('power.limit')),
      migMode: present(field('mig.mode.current')),
    };
  });
}
