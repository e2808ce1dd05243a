import {invalidInput} from '../core/errors.js';
import type {GpuAllocator, GpuPlan} from '../gpu/gpu-allocator.js';

/**
 * Swarm mode: Swarm's scheduler hands out the devices the nodes advertise (generic resources) and
 * takes them back when a session's service goes, so sandman reserves, creates and releases none.
 */
export class SwarmGpuAllocator implements GpuAllocator {
  async plan(): Promise<GpuPlan> {
    return {pick: () => null};
  }

  createMigDevice(): never {
    throw invalidInput('migMode dynamic works on a single host only (docs/admin/swarm.md)');
  }

  /** Whether a node still advertises it is Swarm's concern: it reschedules or reports the task. */
  async present(): Promise<undefined> {
    return undefined;
  }

  async release(): Promise<void> {}
}
