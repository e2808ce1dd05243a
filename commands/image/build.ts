import path from 'node:path';

import {Flags} from '@oclif/core';

import {buildWorkspaceImage} from '../../src/image.js';
import {DockerodeContainerClient} from '../../src/docker/dockerode-container-client.js';
import {SandmanCommand} from '../../cli/base-command.js';
import {startSpinner} from '../../cli/spinner.js';

export default class ImageBuild extends SandmanCommand {
  static override summary = 'Build the workspace image from images/workspace';
  static override description =
    'The image is BASE plus an SSH server and the sandman entrypoint. On GPU hosts use an nvidia/cuda base.';
  static override examples = [
    '<%= config.bin %> image build',
    '<%= config.bin %> image build --base nvidia/cuda:12.6.3-runtime-ubuntu24.04 --tag sandman/workspace:cuda12.6',
    '<%= config.bin %> image build --base debian:bookworm --tag sandman/workspace:cpu',
  ];

  static override flags = {
    base: Flags.string({description: 'base image (default nvidia/cuda:12.6.3-runtime-ubuntu24.04)'}),
    tag: Flags.string({
      description: 'tag to build (default: the configured image, sandman/workspace:latest)',
    }),
  };

  async run(): Promise<{image: string; base: string | null}> {
    const {flags} = await this.parse(ImageBuild);
    const config = this.loadSettings(flags, {image: 'tag'});
    const spinner = await startSpinner(this.jsonEnabled(), `Building ${config.image}`);
    const verbose = !this.jsonEnabled() && !process.stderr.isTTY;
    try {
      await buildWorkspaceImage(new DockerodeContainerClient(), {
        contextDir: path.join(this.config.root, 'images', 'workspace'),
        tag: config.image,
        base: flags.base,
        onProgress: (line) => {
          spinner.text(`Building ${config.image}: ${line.slice(0, 60)}`);
          if (verbose) process.stderr.write(line + '\n');
        },
      });
    } finally {
      spinner.stop();
    }
    this.log(`✔ Built ${config.image}${flags.base ? ` on ${flags.base}` : ''}`);
    return {image: config.image, base: flags.base ?? null};
  }
}
