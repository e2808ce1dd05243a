import {cp, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';

import {invalidInput} from '../../src/core/errors.js';
import {parseApps} from '../../src/apps/app-catalog.js';
import {buildWorkspaceImage, parsePackages} from '../../src/setup/image.js';
import type {Handler} from '../../cli/command-spec.js';
import {startSpinner} from '../../cli/spinner.js';

/**
 * Builds images/workspace on --base; the tag is the `image` setting (--tag sets it). --packages
 * adds the base's own packages, --dockerfile appends an admin's instructions.
 */
const build: Handler = async (
  {flags},
  context,
): Promise<{image: string; base: string | null; packages: string[]; apps: string[]; distribute?: string}> => {
  const {out} = context;
  const {image} = context.settings();
  const base = flags.base as string | undefined;
  const packages = parsePackages((flags.packages as string | undefined) ?? '');
  const apps = parseApps((flags.app as string[] | undefined) ?? []);
  const extra = await readInstructions(flags.dockerfile as string | undefined);
  const spinner = await startSpinner(out.json, `Building ${image}`);
  const verbose = !out.json && !process.stderr.isTTY;
  const source = path.join(context.root, 'images', 'workspace');
  // The packaged context may be read-only: the admin's instructions go into a copy of it.
  const contextDir = extra === undefined ? source : await mkdtemp(path.join(tmpdir(), 'sandman-image-'));
  try {
    if (extra !== undefined) {
      await cp(source, contextDir, {recursive: true});
      const dockerfile = path.join(contextDir, 'Dockerfile');
      await writeFile(
        dockerfile,
        `${await readFile(dockerfile, 'utf8')}\n# From ${flags.dockerfile as string} (image build --dockerfile)\n${extra}\n`,
      );
    }
    await buildWorkspaceImage(await context.services().containers(), {
      contextDir,
      tag: image,
      base,
      packages,
      noDefaultPackages: flags['no-default-packages'] === true,
      apps,
      onProgress: (line) => {
        spinner.text(`Building ${image}: ${line.slice(0, 60)}`);
        if (verbose) process.stderr.write(line + '\n');
      },
    });
  } finally {
    spinner.stop();
    if (contextDir !== source) await rm(contextDir, {recursive: true, force: true});
  }
  out.log(
    `✔ Built ${image}${base ? ` on ${base}` : ''}${packages.length ? ` with ${packages.join(' ')}` : ''}` +
      (apps.length ? `; its sessions open ${apps.join(', ')} in the browser` : ''),
  );
  // Swarm mode: every node starts sessions from its own copy (docs/admin/swarm.md: the image).
  const distribution = (await context.services().runtime()).imageDistribution?.(image);
  if (!distribution) return {image, base: base ?? null, packages, apps};
  out.log(distribution.note);
  return {image, base: base ?? null, packages, apps, distribute: distribution.distribute};
};
export default build;

/** The admin's Dockerfile instructions, appended after sandman's (a FROM there would lose the image). */
async function readInstructions(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw invalidInput(`cannot read --dockerfile ${file}: ${(error as Error).message}`);
  }
  const from = text.split('\n').findIndex((line) => /^\s*FROM\s/i.test(line));
  if (from >= 0)
    throw invalidInput(
      `--dockerfile ${file}:${from + 1}: a FROM would start another image and drop sandman's; ` +
        'give only the instructions that add to it (RUN, ENV, ...)',
    );
  return text;
}
