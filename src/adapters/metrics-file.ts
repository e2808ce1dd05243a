import {mkdir, rename, writeFile} from 'node:fs/promises';
import path from 'node:path';

export async function writeMetricsFile(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), {recursive: true});
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  await writeFile(temp, text, {mode: 0o644});
  await rename(temp, file);
}
