/** What the API's handlers read from a request body, shared by the session and job routes. */
import {invalidInput} from '../../src/core/errors.js';
import type {GpuChoice} from '../../src/gpu/gpu-allocator.js';

export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalidInput('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** The GPU a create asks for: mig_profile, mig_instance_uuid, or gpu ("none", "any", a UUID or index). */
export function gpuChoice(input: Record<string, unknown>): GpuChoice {
  const given = (['mig_profile', 'mig_instance_uuid', 'gpu'] as const).filter(
    (key) => input[key] !== undefined,
  );
  if (given.length > 1)
    throw invalidInput(`give one of mig_profile, mig_instance_uuid and gpu, not ${given.join(' and ')}`);
  for (const key of given) if (typeof input[key] !== 'string') throw invalidInput(`${key} must be a string`);
  if (typeof input.mig_profile === 'string') return {kind: 'profile', profile: input.mig_profile};
  if (typeof input.mig_instance_uuid === 'string')
    return {kind: 'mig-instance', uuid: input.mig_instance_uuid};
  if (input.gpu === 'none') return {kind: 'none'};
  if (typeof input.gpu === 'string') return {kind: 'gpu', ref: input.gpu};
  return {kind: 'default'};
}
