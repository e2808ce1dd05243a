import {access, constants} from 'node:fs/promises';
import path from 'node:path';

import {capacity, conflict, dependencyUnavailable, errnoCode, SandmanError} from '../../core/errors.js';
import type {GpuDevice, GpuInstance, GpuInstanceProfile, GpuStatus} from '../gpu-types.js';
import type {NvidiaSmi} from '../nvidia-smi.js';
import {parseGpuList} from '../parse-list.js';
import {migFailureReason, parseCreatedInstances, type CreatedInstance} from '../parse-mig-commands.js';
import {parseGpuInstanceProfiles, parseGpuInstances} from '../parse-mig-tables.js';
import {parseComputeAppPids} from '../../reap/activity.js';
import {classifySmiOutput, DRIVER_MESSAGE} from '../nvidia-smi-failures.js';
import {parseQueryGpu, QUERY_GPU_FIELDS, queryGpuArgs, UTILIZATION_FIELDS} from '../parse-query-gpu.js';
import {runProgram, type ProgramResult} from '../../core/adapters/run-program.js';

/** Fields sandman can do without when a driver does not know them. */
const OPTIONAL_FIELDS = ['mig.mode.current'];

class UnknownFieldError extends SandmanError {
  constructor(readonly field: string) {
    super('FAILURE', `nvidia-smi does not know the field ${field} (an older driver)`);
  }
}

/** Maps nvidia-smi's own failure words to exit codes (docs/admin/scripting.md), with a hint for the operator. */
export function migError(action: string, output: string): SandmanError {
  const reason = migFailureReason(output) ?? (output.trim().split('\n').at(-1) || 'unknown error');
  if (/Insufficient Resources/i.test(reason)) {
    return capacity(
      `${action}: ${reason} (the GPU has no room left for that profile; see "sandman gpu available")`,
    );
  }
  if (/In use by another client/i.test(reason)) {
    return conflict(`${action}: ${reason} (a process is using the GPU; stop it or pick another GPU)`);
  }
  if (/Insufficient Permissions|permission/i.test(reason)) {
    return dependencyUnavailable(`${action}: ${reason} (MIG changes need root: run sandman as root)`);
  }
  return new SandmanError('FAILURE', `${action}: ${reason}`);
}

/** Runs the real nvidia-smi (or the binary named by nvidiaSmi / SANDMAN_NVIDIA_SMI) as a child process. */
export class ProcessNvidiaSmi implements NvidiaSmi {
  readonly #binary: string;

  constructor(binary: string) {
    this.#binary = binary;
  }

  async available(): Promise<boolean> {
    if (this.#binary.includes('/')) {
      return access(this.#binary, constants.X_OK).then(
        () => true,
        () => false,
      );
    }
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (!dir) continue;
      const found = await access(path.join(dir, this.#binary), constants.X_OK).then(
        () => true,
        () => false,
      );
      if (found) return true;
    }
    return false;
  }

  async #run(args: string[]): Promise<ProgramResult> {
    try {
      // The exact bytes: the parsers read them as nvidia-smi wrote them.
      return await runProgram(this.#binary, args, {timeoutMs: 60_000});
    } catch (error) {
      const code = errnoCode(error);
      if (code === 'ENOENT' || code === 'EACCES') {
        throw dependencyUnavailable(
          `nvidia-smi not found (${this.#binary}): install the NVIDIA driver, or set nvidiaSmi / SANDMAN_NVIDIA_SMI`,
        );
      }
      throw new SandmanError('FAILURE', `nvidia-smi ${args.join(' ')} failed: ${(error as Error).message}`);
    }
  }

  /** The output of a listing; the failures every listing can meet are told apart here. */
  async #read(args: string[]): Promise<string> {
    const output = await this.#run(args);
    const failure = classifySmiOutput(output.stdout + output.stderr);
    if (failure?.kind === 'driver') throw dependencyUnavailable(DRIVER_MESSAGE);
    // With exit 0 or not, depending on the driver: an empty inventory either way.
    if (failure?.kind === 'no-devices') return '';
    if (failure?.kind === 'unknown-field') throw new UnknownFieldError(failure.field);
    if (output.exitCode !== 0) {
      throw new SandmanError(
        'FAILURE',
        `nvidia-smi ${args.join(' ')} exited with ${output.exitCode}: ${(output.stderr || output.stdout).trim()}`,
      );
    }
    return output.stdout;
  }

  async list(): Promise<GpuDevice[]> {
    return parseGpuList(await this.#read(['-L']));
  }

  /** Fields this driver did not know, left out of every later query (older drivers lack mig.mode.current). */
  #unknownFields = new Set<string>();

  async query(): Promise<GpuStatus[]> {
    for (;;) {
      const fields = QUERY_GPU_FIELDS.filter((field) => !this.#unknownFields.has(field));
      try {
        return parseQueryGpu(await this.#read(queryGpuArgs(fields)), fields);
      } catch (error) {
        // Only optional fields may go: without them the GPU counts as not MIG-capable.
        if (!(error instanceof UnknownFieldError) || !OPTIONAL_FIELDS.includes(error.field)) throw error;
        if (this.#unknownFields.has(error.field)) throw error;
        this.#unknownFields.add(error.field);
      }
    }
  }

  async utilization(): Promise<GpuStatus[]> {
    return parseQueryGpu(await this.#read(queryGpuArgs(UTILIZATION_FIELDS)), UTILIZATION_FIELDS);
  }

  async computeApps(): Promise<number[]> {
    return parseComputeAppPids(
      await this.#read(['--query-compute-apps=pid,gpu_uuid', '--format=csv,noheader,nounits']),
    );
  }

  async #readMigTable(args: string[]): Promise<string> {
    const output = await this.#run(args);
    const text = output.stdout + output.stderr;
    const failure = classifySmiOutput(text);
    if (failure?.kind === 'driver') throw dependencyUnavailable(DRIVER_MESSAGE);
    // No GPU in MIG mode (or none MIG-capable): no profiles, no instances.
    if (failure?.kind === 'no-mig' || failure?.kind === 'no-devices') return '';
    if (output.exitCode !== 0 && /not supported|No GPU instances found/i.test(text)) return '';
    if (failure?.kind === 'permissions') {
      throw dependencyUnavailable(
        `nvidia-smi ${args.join(' ')}: Insufficient Permissions (listing MIG devices needs root on this driver: run sandman as root)`,
      );
    }
    if (output.exitCode !== 0) throw migError(`nvidia-smi ${args.join(' ')}`, text);
    return output.stdout;
  }

  async instanceProfiles(): Promise<GpuInstanceProfile[]> {
    return parseGpuInstanceProfiles(await this.#readMigTable(['mig', '-lgip']));
  }

  async instances(): Promise<GpuInstance[]> {
    return parseGpuInstances(await this.#readMigTable(['mig', '-lgi']));
  }

  async createInstance(gpuIndex: number, profile: string): Promise<CreatedInstance> {
    const args = ['mig', '-i', String(gpuIndex), '-cgi', profile, '-C'];
    const output = await this.#run(args);
    const created = parseCreatedInstances(output.stdout);
    if (output.exitCode !== 0 || created.length !== 1) {
      throw migError(
        `could not create a ${profile} MIG device on GPU ${gpuIndex}`,
        output.stdout + output.stderr,
      );
    }
    return created[0]!;
  }

  async destroyInstance(
    gpuIndex: number,
    gpuInstanceId: number,
    computeInstanceId: number | null,
  ): Promise<void> {
    const gpu = String(gpuIndex);
    const gi = String(gpuInstanceId);
    const ciArgs = computeInstanceId === null ? [] : ['-ci', String(computeInstanceId)];
    const steps: Array<[string[], string]> = [
      [['mig', '-i', gpu, '-gi', gi, ...ciArgs, '-dci'], 'compute'],
      [['mig', '-i', gpu, '-gi', gi, '-dgi'], 'GPU'],
    ];
    for (const [args, what] of steps) {
      const output = await this.#run(args);
      const text = output.stdout + output.stderr;
      // "Not Found" / "No ... instances found": it is already gone, which is what we wanted.
      if (output.exitCode !== 0 && !/not found|no (compute|gpu) instances? found/i.test(text)) {
        throw migError(`could not destroy ${what} instance ${gi} on GPU ${gpu}`, text);
      }
    }
  }
}
