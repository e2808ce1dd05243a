import {mkdir} from 'node:fs/promises';
import path from 'node:path';

import {replaceFile} from '../../core/adapters/replace-file.js';

export async function writeMetricsFile(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), {recursive: true});
  await replaceFile(file, text, 0o644);
}
