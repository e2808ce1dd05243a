import type {Config} from '../config.js';
import {dependencyUnavailable} from '../errors.js';
import type {GpuAllocation, GpuAllocator, GpuChoice, GpuPlan, PendingMigDevice} from './gpu-allocator.js';

// Interim: GPU inventory lands with issue 3.
export class NvidiaSmiGpuAllocator implements GpuAllocator {
  constructor(readonly config: Config) {}

  async plan(choice: GpuChoice): Promise<GpuPlan> {
    if (choice.kind === 'none') return {pick: () => null};
    if (choice.kind === 'default') return {note: 'no GPU', pick: () => null};
    throw dependencyUnavailable('GPU allocation is not available yet');
  }

  async createMigDevice(_pending: PendingMigDevice): Promise<GpuAllocation> {
    throw dependencyUnavailable('GPU allocation is not available yet');
  }

  async release(_allocation: GpuAllocation): Promise<void> {}
}
