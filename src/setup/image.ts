import type {Engine} from '../runtime/docker/engine-client.js';
import type {ImageClient} from '../runtime/docker/image-client.js';
import {isImageReference} from '../config/config.js';
import {invalidInput} from '../core/errors.js';
import {APPS} from '../apps/app-catalog.js';

export interface ImageBuildOptions {
  /** The build context: images/workspace, or a copy of it with the admin's instructions appended. */
  contextDir: string;
  tag: string;
  base?: string;
  /** More of the base's own packages (Dockerfile `ARG EXTRA_PACKAGES`). */
  packages?: string[];
  /** Leave out the default tools (Dockerfile `ARG PACKAGES`): only the SSH server and the entrypoint. */
  noDefaultPackages?: boolean;
  /** `--app jupyter`: web apps its sessions can open (src/apps/app-catalog.ts), checked by parseApps. */
  apps?: string[];
  onProgress?: (line: string) => void;
}

/** A package name as apt, dnf and apk accept it (and nothing a shell would read as more). */
const PACKAGE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9.+_:=~-]*$/;

/** `--packages "rsync python3 git"` (spaces or commas) → the names, each checked. */
export function parsePackages(text: string): string[] {
  const names = text.split(/[\s,]+/).filter(Boolean);
  for (const name of names)
    if (!PACKAGE_NAME.test(name))
      throw invalidInput(`invalid --packages entry ${JSON.stringify(name)}: not a package name`);
  return names;
}

/** Builds images/workspace with the given base (Dockerfile `ARG BASE`) and packages. */
export async function buildWorkspaceImage(
  docker: Engine & ImageClient,
  options: ImageBuildOptions,
): Promise<void> {
  if (options.base !== undefined && !isImageReference(options.base)) {
    throw invalidInput(`invalid --base ${JSON.stringify(options.base)}: not an image reference`);
  }
  await docker.ping();
  await docker.buildImage({
    contextDir: options.contextDir,
    tag: options.tag,
    buildArgs: {
      ...(options.base ? {BASE: options.base} : {}),
      ...(options.packages?.length ? {EXTRA_PACKAGES: options.packages.join(' ')} : {}),
      ...(options.noDefaultPackages ? {PACKAGES: ''} : {}),
      ...(options.apps?.length
        ? {
            APPS: options.apps.join(' '),
            APP_PACKAGES: options.apps.flatMap((name) => APPS[name]?.aptPackages ?? []).join(' '),
          }
        : {}),
    },
    onProgress: options.onProgress,
  });
}
