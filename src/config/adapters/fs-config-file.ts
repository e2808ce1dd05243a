import {readFileSync} from 'node:fs';

/** The config file's text (loadConfig's readFile): synchronous, as the fast door reads it first. */
export const readConfigText = (file: string): string => readFileSync(file, 'utf8');
