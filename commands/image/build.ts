import path from 'node:path';

import {buildWorkspaceImage} from '../../src/image.js';
import type {Handler} from '../../cli/command-spec.js';
import {startSpinner} from '../../cli/spinner.js';

/** Builds images/workspace on --base; the tag is the `image` setting (--tag sets it). */
const build: Handler = async (
  {flags},
  context,
): Promise<{image: string; base: string | null; distribute?: string}> => {
  const {out} = context;
  const {image, backend} = context.settings();
  const base = flags.base as string | undefined;
  const spinner = await startSpinner(out.json, `Building ${image}`);
  const verbose = !out.json && !process.stderr.isTTY;
  try {
    await buildWorkspaceImage(await context.services().containers(), {
      contextDir: path.join(context.root, 'images', 'workspace'),
      tag: image,
      base,
      onProgress: (line) => {
        spinner.text(`Building ${image}: ${line.slice(0, 60)}`);
        if (verbose) process.stderr.write(line + '\n');
      },
    });
  } finally {
    spinner.stop();
  }
  out.log(`✔ Built ${image}${base ? ` on ${base}` : ''}`);
  if (backend !== 'swarm') return {image, base: base ?? null};
  // Swarm mode: every node starts sessions from its own copy (README "Swarm mode": the image).
  const distribute =
    `the image is on this manager only: push it to a registry the nodes pull from (docker tag/push, and set image ` +
    `to that name), or copy it to every node: docker save ${image} | ssh NODE docker load ` +
    `(then "sandman doctor" checks it runs on every node)`;
  out.log(`Swarm mode: ${distribute}`);
  return {image, base: base ?? null, distribute};
};
export default build;
