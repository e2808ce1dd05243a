import {invalidInput} from '../core/errors.js';
import type {GpuChoice} from './gpu-allocator.js';

// MIG profile names as nvidia-smi prints them: 3g.20gb, 1g.5gb+me, 1c.2g.10gb, 1g.24gb+gfx.
const PROFILE = /^(\d{1,2}c\.)?\d{1,2}g\.\d{1,4}(\.\d+)?gb(\+[a-z]{1,8}(\.[a-z]{1,8})?)?$/;
// MIG-<uuid> (current drivers) or MIG-GPU-<uuid>/<gi>/<ci> (older ones).
const MIG_UUID =
  /^MIG-([0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|GPU-[0-9a-fA-F-]{36}\/\d{1,3}\/\d{1,3})$/;
// An index, a UUID, or `any` free whole GPU.
const GPU_REF = /^(\d{1,3}|any|GPU-[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})$/;

/**
 * The syntax of a GPU choice, checked before any outside system is asked (a bad flag is exit 2
 * even on a host without nvidia-smi or with the engine down). Whether it exists is the allocator's
 * question.
 */
export function validateGpuChoice(choice: GpuChoice): GpuChoice {
  if (choice.kind === 'profile' && !PROFILE.test(choice.profile)) {
    throw invalidInput(
      `invalid --profile ${JSON.stringify(choice.profile)}: not a MIG profile name such as 3g.20gb or 1g.5gb+me`,
    );
  }
  if (choice.kind === 'mig-instance' && !MIG_UUID.test(choice.uuid)) {
    throw invalidInput(
      `invalid --mig-instance ${JSON.stringify(choice.uuid)}: not a MIG device UUID (MIG-<uuid> or MIG-GPU-<uuid>/<gi>/<ci>)`,
    );
  }
  if (choice.kind === 'gpu' && !GPU_REF.test(choice.ref)) {
    throw invalidInput(
      `invalid --gpu ${JSON.stringify(choice.ref)}: give a GPU index, its GPU-<uuid>, or any`,
    );
  }
  return choice;
}
