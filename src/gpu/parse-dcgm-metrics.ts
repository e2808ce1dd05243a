/**
 * NVIDIA dcgm-exporter's `/metrics` page (Prometheus text format 0.0.4), read for utilisation
 * (docs/admin/notifications-and-idleness.md "GPU idleness"). A MIG device's series carry the PARENT GPU's `UUID` and index (`gpu`)
 * with `GPU_I_ID`/`GPU_I_PROFILE`; there is no MIG-device UUID label (test/fixtures/dcgm-exporter).
 */

/** One series of the page. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/**
 * The sample lines of a Prometheus text page; `#` lines (HELP, TYPE) and blank lines are skipped.
 * Strict: a malformed line is an error naming its line number, so a page that is not one (an HTML
 * error page, a proxy's answer) never reads as "no samples".
 */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const bad = (why: string): never => {
      throw new Error(`line ${index + 1} is not a Prometheus sample (${why}): ${line.slice(0, 120)}`);
    };
    const name = NAME.exec(line)?.[0] ?? bad('no metric name');
    let at = name.length;
    const labels: Record<string, string> = {};
    if (line[at] === '{') {
      at++;
      for (;;) {
        while (line[at] === ' ') at++;
        if (line[at] === '}') {
          at++;
          break;
        }
        const label = LABEL_NAME.exec(line.slice(at))?.[0] ?? bad('bad label name');
        at += label.length;
        if (line[at] !== '=' || line[at + 1] !== '"') bad(`label ${label} has no quoted value`);
        at += 2;
        let value = '';
        for (;;) {
          const char = line[at];
          if (char === undefined) bad(`label ${label}'s value is not closed`);
          at++;
          if (char === '"') break;
          if (char === '\\') {
            const escaped = line[at++];
            value += escaped === 'n' ? '\n' : (escaped ?? '');
          } else value += char;
        }
        labels[label] = value;
        while (line[at] === ' ') at++;
        if (line[at] === ',') at++;
        else if (line[at] !== '}') bad('expected , or } after a label');
      }
    }
    // The value, then an optional timestamp (milliseconds).
    const rest = line.slice(at).trim().split(/\s+/);
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') bad('expected a value');
    const value = parseValue(rest[0]!) ?? bad(`bad value ${JSON.stringify(rest[0])}`);
    if (rest[1] !== undefined && !/^-?\d+$/.test(rest[1])) bad('bad timestamp');
    samples.push({name, labels, value});
  });
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return undefined;
  return Number(text);
}

/** A device's utilisation as dcgm-exporter reports it. */
export interface DcgmUtilization {
  /** The GPU's index (`gpu`) and UUID (`UUID`: the parent GPU's for a MIG device). */
  gpuIndex: number;
  gpuUuid: string;
  /** The MIG GPU instance (`GPU_I_ID`); null for a whole GPU. */
  gpuInstanceId: number | null;
  profile: string | null;
  /** Percent: DCGM_FI_PROF_GR_ENGINE_ACTIVE × 100, else DCGM_FI_DEV_GPU_UTIL. */
  percent: number;
  metric: 'DCGM_FI_PROF_GR_ENGINE_ACTIVE' | 'DCGM_FI_DEV_GPU_UTIL';
}

/**
 * Per device (GPU index, GPU instance): the graphics engine's active ratio as a percent where the
 * page has it (DCGM's per-MIG-instance measure; DCGM_FI_DEV_GPU_UTIL has no MIG series on real
 * hosts), else DCGM_FI_DEV_GPU_UTIL. Series without a numeric `gpu` label or with a NaN are skipped.
 */
export function dcgmUtilization(samples: readonly PromSample[]): DcgmUtilization[] {
  const devices = new Map<string, DcgmUtilization>();
  for (const sample of samples) {
    const metric = sample.name;
    if (metric !== 'DCGM_FI_PROF_GR_ENGINE_ACTIVE' && metric !== 'DCGM_FI_DEV_GPU_UTIL') continue;
    if (!Number.isFinite(sample.value)) continue;
    const gpu = sample.labels.gpu;
    if (gpu === undefined || !/^\d+$/.test(gpu)) continue;
    const gi = sample.labels.GPU_I_ID;
    const gpuInstanceId = gi !== undefined && /^\d+$/.test(gi) ? Number(gi) : null;
    const key = `${gpu}/${gpuInstanceId ?? ''}`;
    const known = devices.get(key);
    if (known?.metric === 'DCGM_FI_PROF_GR_ENGINE_ACTIVE') continue;
    devices.set(key, {
      gpuIndex: Number(gpu),
      gpuUuid: sample.labels.UUID ?? '',
      gpuInstanceId,
      profile: sample.labels.GPU_I_PROFILE ?? null,
      percent: metric === 'DCGM_FI_PROF_GR_ENGINE_ACTIVE' ? sample.value * 100 : sample.value,
      metric,
    });
  }
  return [...devices.values()];
}
