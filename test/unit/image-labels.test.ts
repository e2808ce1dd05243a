import {readFileSync} from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {IMAGE_LABELS} from '../../src/core/labels.js';
import {CONTAINER_PATHS} from '../../src/session/container-paths.js';

const image = (file: string) =>
  readFileSync(path.join(import.meta.dirname, '../../images/workspace', file), 'utf8');

describe('the workspace image and sandman agree', () => {
  it('the Dockerfile sets the labels sandman reads', () => {
    const labels = image('Dockerfile')
      .split('\n')
      .filter((line) => line.startsWith('LABEL '))
      .join(' ');
    expect(labels).toContain(`${IMAGE_LABELS.image}="workspace"`);
    expect(labels).toContain(`${IMAGE_LABELS.sessionFiles}="1"`);
    // image build --app: the apps' names (build argument APPS).
    expect(labels).toContain(`${IMAGE_LABELS.apps}="\${APPS}"`);
  });

  it('the entrypoint reads the session files where sandman mounts them', () => {
    expect(image('entrypoint.sh')).toContain(`session_files=${CONTAINER_PATHS.sessionFilesDir}\n`);
  });
});
