/**
 * The generated reference (docs/reference/, issue 42): each page's file name and what makes it from
 * the code's own tables. scripts/update-docs.mjs writes them (npm run docs);
 * test/unit/reference-docs.test.ts fails when a file on disk is not what this makes.
 */
import {apiPage} from './api-page.js';
import {commandsPage} from './commands-page.js';
import {exitCodesPage} from './exit-codes-page.js';
import {settingsPage} from './settings-page.js';
import {stateFilePage} from './state-file-page.js';

export const REFERENCE_DIR = 'docs/reference';

export const REFERENCE_PAGES: Record<string, () => string> = {
  'commands.md': commandsPage,
  'settings.md': settingsPage,
  'exit-codes.md': exitCodesPage,
  'state-file.md': stateFilePage,
  'api.md': apiPage,
};
