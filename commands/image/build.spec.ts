import type {CommandSpec} from '../../cli/command-spec.js';
import {SETTINGS} from '../../src/config/config.js';

/** `sandman image build`: help, arguments and flags (data only); its handler is build.ts. */
const spec: CommandSpec = {
  id: 'image:build',
  summary: 'Build the workspace image from images/workspace',
  description:
    'The image is BASE plus an SSH server, the tools users need (rsync, curl, git, python3 with venv, tmux, less, ' +
    'a UTF-8 locale) and the sandman entrypoint. On GPU hosts use an nvidia/cuda base. ' +
    'In swarm mode it is built on the manager: push it to a registry the nodes pull from, or ' +
    'docker save IMAGE | ssh NODE docker load on every node (doctor checks that it runs on each).',
  examples: [
    '<%= config.bin %> image build',
    '<%= config.bin %> image build --base nvidia/cuda:12.6.3-runtime-ubuntu24.04 --tag sandman/workspace:cuda12.6',
    '<%= config.bin %> image build --base debian:bookworm --tag sandman/workspace:cpu',
    '<%= config.bin %> image build --packages "build-essential htop" --dockerfile site-tools.dockerfile',
    '<%= config.bin %> image build --base debian:bookworm --app jupyter --tag sandman/workspace:jupyter',
  ],
  flags: {
    base: {kind: 'string', description: 'base image (default nvidia/cuda:12.6.3-runtime-ubuntu24.04)'},
    packages: {
      kind: 'string',
      description:
        'more of the base\'s own packages, installed with its apt-get, dnf or apk ("rsync python3-dev")',
    },
    'no-default-packages': {
      kind: 'boolean',
      description: 'leave out the default tools (rsync, curl, git, python3, tmux, less, a locale)',
    },
    app: {
      kind: 'string',
      multiple: true,
      description:
        "a web app its sessions open in the browser through sandman's proxy: jupyter (Debian's jupyter-notebook; Debian or Ubuntu bases)",
    },
    dockerfile: {
      kind: 'string',
      description: "a file of Dockerfile instructions appended to sandman's (RUN, ENV, ...)",
    },
    tag: {
      kind: 'string',
      description: `tag to build (default: the configured image, ${String(SETTINGS.image.default)})`,
      setting: 'image',
    },
  },
  fast: true,
  load: () => import('./build.js'),
};

export default spec;
