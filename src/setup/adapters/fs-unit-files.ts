import {mkdir, writeFile} from 'node:fs/promises';
import path from 'node:path';

/** Writes systemd units (`sandman systemd install`) into a directory: the files written. */
export async function installUnits(dir: string, units: Record<string, string>): Promise<string[]> {
  await mkdir(dir, {recursive: true});
  const written: string[] = [];
  for (const [name, text] of Object.entries(units)) {
    const file = path.join(dir, name);
    await writeFile(file, text, {mode: 0o644});
    written.push(file);
  }
  return written;
}
