import type {ContainerClient} from './docker/container-client.js';
import {isImageReference} from './config.js';
import {invalidInput} from './errors.js';

/** Builds images/workspace with the given base (Dockerfile `ARG BASE`). */
export async function buildWorkspaceImage(
  docker: ContainerClient,
  options: {contextDir: string; tag: string; base?: string; onProgress?: (line: string) => void},
): Promise<void> {
  if (options.base !== undefined && !isImageReference(options.base)) {
    throw invalidInput(`invalid --base ${JSON.stringify(options.base)}: not an image reference`);
  }
  await docker.ping();
  await docker.buildImage({
    contextDir: options.contextDir,
    tag: options.tag,
    buildArgs: options.base ? {BASE: options.base} : {},
    onProgress: options.onProgress,
  });
}
