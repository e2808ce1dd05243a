import path from 'node:path';

import {buildWorkspaceImage} from '../../src/image.js';
import type {Handler} from '../../cli/command-spec.js';
import {startSpinner} from '../../cli/spinner.js';

/** Builds images/workspace on --base; the tag is the `image` setting (--tag sets it). */
const build: Handler = async ({flags}, context): Promise<{image: string; base: string | null}> => {
  const {out} = context;
  const {image} = context.settings();
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
  return {image, base: base ?? null};
};
export default build;
